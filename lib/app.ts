import express, { type Express } from 'express';

import type { ProxyOptions } from './config/proxy-config';
import {
  type CloneProxyDependencies,
  type CloneProxyMiddleware,
  createCloneProxyMiddleware,
} from './middleware';

/** The proxy as a whole Express app, for the standalone server. */
export interface CloneProxy {
  app: Express;
  middleware: CloneProxyMiddleware;
}

/**
 * Build the clone-serializing proxy as an Express app for one PVE target.
 *
 * @example
 * const { app, middleware } = createCloneProxy({ target: 'https://127.0.0.1:8006' }, { logger });
 * http.createServer(app).on('upgrade', middleware.upgrade).listen(8081);
 */
export function createCloneProxy(
  options: ProxyOptions,
  dependencies: CloneProxyDependencies = {},
): CloneProxy {
  const middleware = createCloneProxyMiddleware(options, dependencies);

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use(middleware);

  return { app, middleware };
}
