import type { Dispatcher } from 'undici';

import type { PveAnswer } from '../pve/answer';

export interface UpstreamRequest {
  origin: string;
  method: 'GET' | 'POST';
  path: string;
  headers: string[];
  body?: Buffer;
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * Send one request to PVE and collect the whole answer, keeping what undici's high-level
 * `request()` drops: the reason phrase and the raw header pairs in their original order.
 */
export function exchangeUpstream(
  dispatcher: Dispatcher,
  request: UpstreamRequest,
): Promise<PveAnswer> {
  return new Promise((resolve, reject) => {
    let status = 0;
    let reason = '';
    let headers: string[] = [];
    const chunks: Buffer[] = [];

    const handler = {
      onConnect(abort: (error?: Error) => void) {
        if (request.signal?.aborted) return abort(request.signal.reason);
        request.signal?.addEventListener('abort', () => abort(request.signal?.reason), {
          once: true,
        });
      },
      onHeaders(code: number, raw: Buffer[], _resume: () => void, text: string) {
        status = code;
        reason = text;
        headers = raw.map((part) => part.toString('latin1'));
        return true;
      },
      onData(chunk: Buffer) {
        chunks.push(chunk);
        return true;
      },
      onComplete() {
        resolve({ status, reason, headers, body: Buffer.concat(chunks) });
      },
      onError(error: Error) {
        reject(error);
      },
    };

    dispatcher.dispatch(
      {
        origin: request.origin,
        method: request.method,
        path: request.path,
        headers: request.headers,
        body: request.body,
        headersTimeout: request.timeoutMs,
        bodyTimeout: request.timeoutMs,
      },
      handler as unknown as Dispatcher.DispatchHandler,
    );
  });
}
