import type { IncomingMessage, ServerResponse } from 'node:http';

import type { Logger } from './logger';

/**
 * One `debug` line per passed-through request once its answer is written: method, path, status
 * and duration. The query is left out (a GET may carry a password or a VNC ticket there), and
 * so are all headers and bodies: they carry tickets, CSRF tokens and API tokens.
 */
export function createPassthroughLog(logger: Logger) {
  return function logPassthrough(req: IncomingMessage, res: ServerResponse, next: () => void) {
    // winston builds and streams a debug entry even when its level is off: skip the work.
    if (!logger.isDebugEnabled()) return next();

    // Taken now: further down, a mounting gateway may rewrite req.url.
    const method = req.method;
    const path = (req.url ?? '/').split('?')[0];
    const startedAt = performance.now();

    res.once('close', () => {
      const line: Record<string, unknown> = {
        method,
        path,
        status: res.statusCode,
        ms: Math.round(performance.now() - startedAt),
      };
      if (!res.writableFinished) line.aborted = true;
      logger.debug('passthrough', line);
    });
    next();
  };
}
