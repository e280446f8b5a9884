import type { Dispatcher } from 'undici';

import type { PveAnswer } from '../pve/answer';

export interface UpstreamRequest {
  origin: string;
  method: 'GET' | 'POST';
  path: string;
  headers: string[];
  body?: Buffer;
  /** Limit for the whole exchange, from connecting to the last body byte. */
  timeoutMs: number;
  /** Abandon the exchange early (the caller no longer needs the answer). */
  signal?: AbortSignal;
}

/**
 * The largest answer the proxy reads for itself. PVE answers a clone, a task status or a task
 * list in a few KiB; more is not PVE, and must not fill memory or hold a lane.
 */
export const MAX_UPSTREAM_BODY = 4 * 1024 * 1024;

/** Raised when an answer ran past its time or size, with an undici-like code for the mapping. */
class ExchangeLimitError extends Error {
  readonly code: string;

  constructor(code: 'UND_ERR_HEADERS_TIMEOUT' | 'UND_ERR_RES_EXCEEDED_MAX_SIZE', message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * Send one request to PVE and collect the whole answer, keeping what undici's high-level
 * `request()` drops: the reason phrase and the raw header pairs in their original order.
 * undici's own timeouts are per step; a total deadline also stops an answer that drips in.
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
    let size = 0;
    let abort: ((error: Error) => void) | undefined;
    const deadline = setTimeout(() => {
      abort?.(
        new ExchangeLimitError(
          'UND_ERR_HEADERS_TIMEOUT',
          `no whole answer within ${request.timeoutMs} ms`,
        ),
      );
    }, request.timeoutMs);

    const handler = {
      onConnect(abortRequest: (error: Error) => void) {
        abort = abortRequest;
        const { signal } = request;
        if (signal?.aborted) return abortRequest(signal.reason);
        signal?.addEventListener('abort', () => abortRequest(signal.reason), { once: true });
      },
      onHeaders(code: number, raw: Buffer[], _resume: () => void, text: string) {
        status = code;
        reason = text;
        headers = raw.map((part) => part.toString('latin1'));
        return true;
      },
      onData(chunk: Buffer) {
        size += chunk.length;
        if (size > MAX_UPSTREAM_BODY) {
          abort?.(
            new ExchangeLimitError(
              'UND_ERR_RES_EXCEEDED_MAX_SIZE',
              `answer over ${MAX_UPSTREAM_BODY} bytes`,
            ),
          );
          return false;
        }
        chunks.push(chunk);
        return true;
      },
      onComplete() {
        clearTimeout(deadline);
        resolve({ status, reason, headers, body: Buffer.concat(chunks) });
      },
      onError(error: Error) {
        clearTimeout(deadline);
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
