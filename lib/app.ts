import type { IncomingMessage, ServerResponse } from 'node:http';

import express, { type ErrorRequestHandler, type Express } from 'express';

import { writeAnswer } from './clone/answer-writer';
import { ERROR_STATUS, type ProxyErrorCode } from './errors';
import {
  type CloneProxyDependencies,
  type CloneProxyMiddleware,
  type CloneProxyMiddlewareOptions,
  createCloneProxyMiddleware,
} from './middleware';
import { ADMIN_PREFIX } from './observe/admin-router';
import { createSilentLogger, type Logger } from './observe/logger';
import { parseApiFormat } from './pve/api-format';
import { createErrorAnswer } from './pve/envelope';

/** The proxy as a whole Express app, for the standalone server. */
export interface CloneProxy {
  app: Express;
  middleware: CloneProxyMiddleware;
  /**
   * The request listener for a server: clones, admin paths and nextid reservations go through
   * `app`; everything else goes straight to passthrough, without Express on the hot path.
   */
  listener: (req: IncomingMessage, res: ServerResponse) => void;
}

/**
 * Build the clone-serializing proxy as an Express app for one PVE target.
 *
 * @example
 * const { app, middleware } = createCloneProxy({ target: 'https://127.0.0.1:8006' }, { logger });
 * http.createServer(app).on('upgrade', middleware.upgrade).listen(8081);
 */
export function createCloneProxy(
  options: CloneProxyMiddlewareOptions,
  dependencies: CloneProxyDependencies = {},
): CloneProxy {
  const middleware = createCloneProxyMiddleware(options, dependencies);

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  const lastResort = createLastResort(dependencies.logger ?? createSilentLogger());
  app.use(middleware);
  app.use(lastResort);

  // Passthrough takes every request; one it declined would otherwise never be answered.
  const orLastResort = (req: IncomingMessage, res: ServerResponse) => (error?: unknown) => {
    const fault = error ?? new Error('passthrough declined the request');
    lastResort(fault, req as never, res as never, () => {});
  };
  const passThrough = (req: IncomingMessage, res: ServerResponse) =>
    middleware.passThrough(req, res, orLastResort(req, res));

  // Express only for the admin paths and nextid reservations (GETs): clones, which may wait
  // for minutes by the thousand, skip its per-request state too.
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    if (!middleware.claims(req)) return passThrough(req, res);
    if (req.method !== 'POST' || req.url?.startsWith(ADMIN_PREFIX)) return void app(req, res);
    middleware.admitClone(req, res, (error) => {
      if (error) return orLastResort(req, res)(error);
      passThrough(req, res);
    });
  };
  return { app, middleware, listener };
}

/**
 * What no part answered because it failed unexpectedly: a 500 in PVE's envelope and an error
 * line, instead of Express's default HTML page and a `console.error`.
 */
function createLastResort(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    logger.error('request failed inside the proxy', {
      method: req.method,
      // Outside Express (clones, passthrough) there is no req.path; the query may hold secrets.
      path: (req.originalUrl ?? req.url ?? '').split('?')[0],
      reason: (error as Error)?.message ?? String(error),
    });
    const code: ProxyErrorCode = 'CLONE_PROXY_INTERNAL';
    const message = 'pve-clone-proxy: internal error';
    const format = parseApiFormat(req.url);
    const answer = createErrorAnswer(format, ERROR_STATUS[code].status, message, {
      'X-Clone-Proxy-Error': code,
    });
    if (!writeAnswer(res, answer)) res.destroy();
  };
}
