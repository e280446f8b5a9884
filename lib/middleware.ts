import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

import express, { type Express } from 'express';

import { claimsRequest } from './claims';
import { createCloneAdmission } from './clone/clone-admission';
import { CloneEvents } from './clone/clone-events';
import { describeJob } from './clone/clone-job';
import { type CloneLanes, createCloneLanes } from './clone/clone-lanes';
import { LocalNode } from './clone/local-node';
import { createRedisLaneLock } from './clone/redis-lane-lock';
import { TaskDurations } from './clone/task-durations';
import { type ProxyConfig, type ProxyOptions, verifyProxyOptions } from './config/proxy-config';
import { ProxyError } from './errors';
import { createNextidReservation } from './nextid/nextid-reservation';
import { createRedisNextidHolds } from './nextid/redis-nextid-holds';
import { type CloneProxyAdmin, createCloneProxyAdmin } from './observe/admin-router';
import { createSilentLogger, type Logger } from './observe/logger';
import { createPassthroughLog } from './observe/passthrough-log';
import { createPassthrough, createPassthroughAgent } from './passthrough';
import { createRedisLink } from './redis/redis-link';
import { createUpstreamAgent } from './upstream/upstream-agent';

/** The proxy's options plus how it is mounted. */
export interface CloneProxyMiddlewareOptions extends ProxyOptions {
  /**
   * Serve the admin endpoints (`/_clone-proxy/metrics`, `health`, `queue`, `status`) from this
   * router, ahead of everything else; default true. With false, mount
   * `createCloneProxyAdmin(middleware)` where you want them, and those paths go to PVE here.
   */
  admin?: boolean;
}

export interface CloneProxyDependencies {
  /** Where the proxy logs; silent when not given. */
  logger?: Logger;
}

/** An Express router that serializes clones and passes everything else to PVE. */
export interface CloneProxyMiddleware extends Express {
  /**
   * Attach to the HTTP server's `upgrade` event so websockets reach PVE. Mounted under a prefix,
   * it takes only upgrades below that prefix (and strips it) and returns false for others, so a
   * gateway can hand those to its own handler.
   */
  upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean;
  config: Readonly<ProxyConfig>;
  lanes: CloneLanes;
  /** What happens to clones, for metrics and status; listening never changes behaviour. */
  events: CloneEvents;
  /**
   * Whether this request needs more than passthrough (an admin path, a clone, a nextid call to
   * reserve). A server may send every other request to `passThrough` without Express: that is
   * the hot path, and Express's per-request work would cost more than the proxying itself.
   */
  claims(req: IncomingMessage): boolean;
  /**
   * Clone admission alone, as a plain Node handler: `next` is called for what is not a clone.
   * A server may send clones here without Express; a waiting clone then holds only its own
   * request, response and job, not Express's per-request state (half of its memory).
   */
  admitClone(req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void;
  /** Passthrough alone, as a plain Node handler (plus its debug log line). */
  passThrough(req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void;
  /** The admin endpoints this router serves; undefined with `admin: false`. */
  admin: CloneProxyAdmin | undefined;
  /** Answer waiting clones with 503, wait for the one in flight, release upstream connections. */
  close: (timeoutMs?: number) => Promise<void>;
  /**
   * Load what the first clone needs (undici) now instead of on that clone. The server calls it
   * once listening; a gateway may call it when it is ready. Safe to call more than once.
   */
  warmUp: () => void;
}

/**
 * Build the proxy as middleware for an existing Express gateway. Options mirror the
 * `CLONE_PROXY_*` variables and are verified here, once; a bad one throws
 * `CLONE_PROXY_CONFIG_INVALID`. Mounted under a prefix, the path below the prefix is what PVE
 * receives.
 *
 * @example
 * const pve = createCloneProxyMiddleware({ target: 'https://127.0.0.1:8006', pollInterval: '1s' });
 * gateway.use('/pve', pve);
 * server.on('upgrade', pve.upgrade);
 */
export function createCloneProxyMiddleware(
  options: CloneProxyMiddlewareOptions,
  dependencies: CloneProxyDependencies = {},
): CloneProxyMiddleware {
  const config = verifyProxyOptions(options, ['admin']);
  const withAdmin = verifyAdmin(options.admin);
  const logger = dependencies.logger ?? createSilentLogger();
  const upstream = createUpstreamAgent(config);
  const events = new CloneEvents();
  const context = {
    config,
    upstream,
    logger,
    events,
    durations: new TaskDurations(),
    localNode: new LocalNode(),
  };
  // With a Redis, every proxy on it shares the lane locks and the nextid holds.
  const redis = config.redisUrl
    ? createRedisLink(config.redisUrl, config.redisFailure, logger)
    : undefined;
  const lanes = createCloneLanes(
    context,
    redis &&
      createRedisLaneLock(redis, {
        leaseMs: config.redisLeaseMs,
        taskTtlMs: config.pollTimeoutMs,
        logger,
      }),
  );
  const passthroughAgent = createPassthroughAgent(config);
  const passthrough = createPassthrough(config, logger, passthroughAgent);

  // Admin endpoints first: their reserved prefix must never be taken for a PVE path.
  const admin = withAdmin
    ? createCloneProxyAdmin({ config, events, lanes }, { dispatcher: upstream })
    : undefined;

  const tunnels = new Set<Duplex>();
  let closing: Promise<void> | undefined;
  const shutdown = async (timeoutMs: number) => {
    const { unfinished } = await lanes.shutdown(timeoutMs);
    for (const job of unfinished) {
      logger.error('clone abandoned at shutdown: its task may still run', describeJob(job));
    }
    // Websocket tunnels are no longer the HTTP server's connections: end them here.
    for (const socket of tunnels) socket.destroy();
    passthroughAgent.destroy();
    await upstream.close();
    await redis?.close();
  };

  // A sub-app rather than a Router: it learns where the gateway mounted it (`mountpath`), which
  // websocket upgrades need, since they bypass Express routing.
  const router = express() as CloneProxyMiddleware;
  router.disable('x-powered-by');
  router.disable('etag');
  if (admin) router.use(admin);
  if (config.nextid === 'reserve') {
    const holds = redis && createRedisNextidHolds(redis, config.nextidHoldMs);
    router.use(createNextidReservation(lanes, context, holds));
  }
  const admitClone = createCloneAdmission(lanes, context);
  router.use(admitClone);
  const passthroughLog = createPassthroughLog(logger);
  router.use(passthroughLog);
  router.use(passthrough);

  return Object.assign(router, {
    upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
      const prefix =
        typeof router.mountpath === 'string' ? router.mountpath.replace(/\/$/, '') : '';
      const url = req.url ?? '/';
      if (prefix && !url.startsWith(`${prefix}/`)) return false;

      // Node hands over every request with an Upgrade header, a clone POST too; only websocket
      // GETs are tunnels (PVE handles others as plain requests, which a raw socket cannot).
      if (req.method !== 'GET' || String(req.headers.upgrade).toLowerCase() !== 'websocket') {
        socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return true;
      }
      req.url = url.slice(prefix.length);
      tunnels.add(socket);
      socket.once('close', () => tunnels.delete(socket));
      passthrough.upgrade(req, socket as never, head);
      return true;
    },
    claims: (req: IncomingMessage) => claimsRequest(req, config, admin !== undefined),
    admitClone,
    passThrough(req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void {
      passthroughLog(req, res, () => passthrough(req as never, res as never, next));
    },
    config,
    lanes,
    events,
    admin,
    close(timeoutMs = config.shutdownTimeoutMs) {
      closing ??= shutdown(timeoutMs);
      return closing;
    },
    warmUp: () => upstream.warmUp(),
  });
}

function verifyAdmin(value: unknown): boolean {
  if (value === undefined) return true;
  if (typeof value === 'boolean') return value;
  throw new ProxyError(
    'CLONE_PROXY_CONFIG_INVALID',
    `invalid admin: ${JSON.stringify(value)}; for example false`,
  );
}
