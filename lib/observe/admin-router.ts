import { Router as createRouter, type Request, type Response, type Router } from 'express';
import type { Registry } from 'prom-client';
import type { Dispatcher } from 'undici';

import { ProxyError } from '../errors';
import { createUpstreamAgent } from '../upstream/upstream-agent';
import { type CloneHistory, createCloneHistory } from './clone-history';
import { createCloneMetrics } from './clone-metrics';
import type { ObservedProxy } from './lane-view';
import { createPveHealthProbe } from './pve-health';
import { STATUS_PAGE } from './status-page';

/** The path prefix of the admin endpoints; PVE serves nothing outside `/api2` and its GUI paths. */
export const ADMIN_PREFIX = '/_clone-proxy';

export interface CloneProxyAdminOptions {
  /** For the health probe; by default the admin opens its own, closed by `close()`. */
  dispatcher?: Dispatcher;
  /**
   * How long the health probe waits for PVE. PVE delays every 401 by about 3 s
   * (pve-http-server AnyEvent.pm), so a probe without credentials needs more than that.
   */
  healthTimeoutMs?: number;
  /** How long a health answer is reused for the same credentials. */
  healthCacheMs?: number;
  /** Collect prom-client's process metrics too; default true. */
  defaultMetrics?: boolean;
}

/** Express router serving `/_clone-proxy/{metrics,health,queue,status}` for one proxy. */
export interface CloneProxyAdmin extends Router {
  registry: Registry;
  history: CloneHistory;
  /** Release the health probe's own connections, if it opened any. */
  close(): Promise<void>;
}

/**
 * Build the admin endpoints for a proxy: Prometheus metrics, liveness and PVE reachability,
 * the queue as JSON, and a status page. They only read the proxy; create them right after the
 * proxy so that the metrics see every event. The router answers the full `/_clone-proxy/...`
 * paths, so mount it without a prefix of its own.
 *
 * @example
 * const pve = createCloneProxyMiddleware({ target, admin: false });
 * adminApp.use(createCloneProxyAdmin(pve));
 */
export function createCloneProxyAdmin(
  proxy: ObservedProxy,
  options: CloneProxyAdminOptions = {},
): CloneProxyAdmin {
  const healthTimeoutMs = verifyMs('healthTimeoutMs', options.healthTimeoutMs ?? 4000, 1);
  const healthCacheMs = verifyMs('healthCacheMs', options.healthCacheMs ?? 1500, 0);
  const registry = createCloneMetrics(proxy, { defaultMetrics: options.defaultMetrics });
  const history = createCloneHistory(proxy);

  let ownAgent: ReturnType<typeof createUpstreamAgent> | undefined;
  const dispatcher = () => {
    if (options.dispatcher) return options.dispatcher;
    ownAgent ??= createUpstreamAgent(proxy.config);
    return ownAgent;
  };
  const health = createPveHealthProbe({
    target: proxy.config.target,
    dispatcher,
    timeoutMs: healthTimeoutMs,
    cacheMs: healthCacheMs,
  });

  const router = createRouter() as CloneProxyAdmin;
  router.get(`${ADMIN_PREFIX}/metrics`, async (_req, res) => {
    res.set('Content-Type', registry.contentType).send(await registry.metrics());
  });
  router.get(`${ADMIN_PREFIX}/health`, async (req, res) => {
    const pve = await health.check(req);
    sendJson(res, { live: true, closing: proxy.lanes.closing, target: proxy.config.target, pve });
  });
  router.get(`${ADMIN_PREFIX}/queue`, (_req, res) => sendJson(res, history.snapshot()));
  router.get(`${ADMIN_PREFIX}/status`, (_req, res) => {
    res.set('Cache-Control', 'no-store').type('html').send(STATUS_PAGE);
  });
  // The prefix is ours alone: nothing under it ever reaches PVE.
  router.all(`${ADMIN_PREFIX}{/*rest}`, (req: Request, res: Response) => {
    res.status(404);
    sendJson(res, { error: `no admin endpoint ${req.method} ${req.path}`, endpoints: ENDPOINTS });
  });

  return Object.assign(router, {
    registry,
    history,
    async close() {
      await ownAgent?.close();
    },
  });
}

const ENDPOINTS = ['metrics', 'health', 'queue', 'status'].map((name) => `${ADMIN_PREFIX}/${name}`);

function sendJson(res: Response, body: unknown): void {
  res.set('Cache-Control', 'no-store').json(body);
}

function verifyMs(name: string, value: unknown, minMs: number): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= minMs) return value;
  throw new ProxyError(
    'CLONE_PROXY_CONFIG_INVALID',
    `invalid ${name}: ${JSON.stringify(value)}; for example 4000 (ms)`,
  );
}
