import type { IncomingMessage, ServerResponse } from 'node:http';

import type { Answer } from './envelope';

/**
 * Writes an answer with the headers every pve-http-server response carries (AnyEvent.pm,
 * `response`): `Expires` equal to `Date`, no caching, `Server: pve-api-daemon/3.0`, and
 * `Connection: close` for any status of 400 or more.
 */
export function writeAnswer(res: ServerResponse, answer: Answer): void {
  if (res.headersSent || res.destroyed) return;

  const date = new Date().toUTCString();
  const headers: Record<string, string | number> = {
    'Cache-Control': 'max-age=0',
    Date: date,
    Expires: date,
    Pragma: 'no-cache',
    Server: 'pve-api-daemon/3.0',
  };
  if (answer.contentType) headers['Content-Type'] = answer.contentType;
  Object.assign(headers, answer.headers);
  headers['Content-Length'] = Buffer.byteLength(answer.body);
  if (answer.status >= 400) headers.Connection = 'close';

  res.sendDate = false;
  res.writeHead(answer.status, encodeReason(answer.reason), headers);
  res.end(answer.body);
}

/** Reads a request body whose length was already checked against the limit. */
export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
    req.on('aborted', () => reject(new Error('request aborted')));
  });
}

/**
 * PVE writes the reason phrase as UTF-8 bytes; Node writes header strings as Latin-1, so the
 * bytes are handed over as Latin-1 characters. Control characters would make Node throw.
 */
function encodeReason(reason: string): string {
  const latin1 = Buffer.from(reason, 'utf8').toString('latin1');
  return [...latin1].filter((char) => char === '\t' || (char >= ' ' && char !== '\u007f')).join('');
}
