import type { IncomingMessage } from 'node:http';

/** PVE refuses bodies above 512 KiB on API calls (pve-http-server AnyEvent.pm). */
export const PVE_BODY_LIMIT = 512 * 1024;

export type BodyRead = { kind: 'body'; body: Buffer } | { kind: 'too-large' } | { kind: 'aborted' };

/**
 * Read a request body once, up to the limit. A declared length above it is refused before
 * reading; a chunked body is de-chunked by Node and refused as soon as it passes the limit.
 */
export function readRequestBody(req: IncomingMessage, limit = PVE_BODY_LIMIT): Promise<BodyRead> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.resolve({ kind: 'too-large' });

  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (read: BodyRead) => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      resolve(read);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) return settle({ kind: 'too-large' });
      chunks.push(chunk);
    };

    req.on('data', onData);
    req.once('end', () => settle({ kind: 'body', body: Buffer.concat(chunks) }));
    req.once('error', () => settle({ kind: 'aborted' }));
    req.once('close', () =>
      settle(req.complete ? { kind: 'body', body: Buffer.concat(chunks) } : { kind: 'aborted' }),
    );
  });
}
