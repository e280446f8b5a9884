import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';

export const TOKEN_HEADER = {
  Authorization: 'PVEAPIToken=root@pam!test=00000000-0000-0000-0000-000000000000',
};
export const FORM = 'application/x-www-form-urlencoded';

export interface Reply {
  status: number;
  reason: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface SendOptions {
  headers?: Record<string, string | number>;
  body?: string | Buffer;
  /** Send the API token (default true). */
  token?: boolean;
}

/**
 * One request on its own connection through node:http, so that the reason phrase
 * (`statusMessage`) and raw headers can be asserted.
 */
export function send(
  base: string,
  method: string,
  path: string,
  options: SendOptions = {},
): Promise<Reply> {
  const headers: Record<string, string | number> = {
    ...(options.token === false ? {} : TOKEN_HEADER),
    ...(options.body !== undefined
      ? { 'Content-Type': FORM, 'Content-Length': Buffer.byteLength(options.body) }
      : {}),
    ...options.headers,
  };
  if (headers['Transfer-Encoding']) delete headers['Content-Length'];
  const { protocol, hostname, port } = new URL(base);
  const request = protocol === 'https:' ? httpsRequest : httpRequest;

  return new Promise((resolve, reject) => {
    // The path is passed apart from the URL, so that `/./` and `//` reach the server unchanged.
    const req = request(
      {
        method,
        host: hostname.replace(/^\[|\]$/g, ''),
        port,
        path,
        headers,
        agent: false,
        rejectUnauthorized: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            reason: res.statusMessage ?? '',
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** `send` for a form POST with the API token. */
export function post(
  base: string,
  path: string,
  body: string,
  headers: Record<string, string> = {},
) {
  return send(base, 'POST', path, { body, headers });
}

export function data(reply: Reply): unknown {
  return JSON.parse(reply.body).data;
}

export function taskPath(upid: string, node = upid.split(':')[1]): string {
  return `/api2/json/nodes/${node}/tasks/${encodeURIComponent(upid)}/status`;
}

/** Polls a task every 5 ms until it stops; returns its last status. */
export async function waitForTask(base: string, upid: string): Promise<Record<string, unknown>> {
  for (;;) {
    const status = data(await send(base, 'GET', taskPath(upid))) as Record<string, unknown>;
    if (status.status === 'stopped') return status;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
