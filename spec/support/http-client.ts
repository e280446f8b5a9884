import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';

export const TOKEN = 'PVEAPIToken=root@pam!test=00000000-0000-0000-0000-000000000000';

export interface Reply {
  status: number;
  reason: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  // biome-ignore lint/suspicious/noExplicitAny: specs read PVE bodies loosely
  json(): any;
}

export interface Send {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Send the body with Transfer-Encoding: chunked instead of Content-Length. */
  chunked?: boolean;
  signal?: AbortSignal;
}

/** One real HTTP exchange on a fresh connection, keeping the reason phrase. */
export function send(baseUrl: string, options: Send): Promise<Reply> {
  // The path is sent as given (`//api2`, backslashes); only the base URL says where to.
  const url = new URL(baseUrl);
  const body = options.body === undefined ? undefined : Buffer.from(options.body);
  const headers: Record<string, string> = { ...options.headers };
  if (body && !options.chunked) headers['Content-Length'] = String(body.length);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;

  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port,
        method: options.method ?? 'GET',
        path: options.path,
        headers,
        agent: false,
        rejectUnauthorized: false,
        signal: options.signal,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const data = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            reason: res.statusMessage ?? '',
            headers: res.headers,
            body: data,
            json: () => JSON.parse(data.toString('utf8')),
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (body && options.chunked) {
      req.write(body.subarray(0, Math.ceil(body.length / 2)));
      req.end(body.subarray(Math.ceil(body.length / 2)));
    } else {
      req.end(body);
    }
  });
}

/** A clone POST with the test token and a form body. */
export function sendClone(
  baseUrl: string,
  body: string,
  options: {
    vmid?: number;
    node?: string;
    path?: string;
    headers?: Record<string, string>;
    signal?: AbortSignal;
  } = {},
): Promise<Reply> {
  const path =
    options.path ?? `/api2/json/nodes/${options.node ?? 'pve1'}/lxc/${options.vmid ?? 9000}/clone`;
  return send(baseUrl, {
    method: 'POST',
    path,
    headers: {
      Authorization: TOKEN,
      'Content-Type': 'application/x-www-form-urlencoded',
      ...options.headers,
    },
    body,
    signal: options.signal,
  });
}
