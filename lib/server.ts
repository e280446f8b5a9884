import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import express from 'express';

import { type CloneProxy, createCloneProxy } from './app';
import { formatListenAddress, type ListenAddress } from './config/listen-address';
import { toProxyOptions } from './config/proxy-config';
import type { ServerConfig } from './config/server-config';
import { ProxyError } from './errors';
import type { CloneProxyMiddlewareOptions } from './middleware';
import { ADMIN_PREFIX, type CloneProxyAdmin, createCloneProxyAdmin } from './observe/admin-router';
import { createSilentLogger, type Logger } from './observe/logger';

export interface CloneProxyServer {
  server: Server;
  proxy: CloneProxy;
  /** The admin listener, when `adminListen` is set; the API listener then has no admin paths. */
  adminServer: Server | undefined;
  /** Start listening (admin too); resolves with the API base URL, e.g. `http://127.0.0.1:8081`. */
  listen(): Promise<string>;
  /** The admin listener's base URL once listening, e.g. `http://127.0.0.1:9081`. */
  readonly adminUrl: string | undefined;
  /**
   * Graceful stop: refuse new connections, answer waiting clones with 503, let the clone in
   * flight finish (up to the shutdown timeout), then close every connection.
   */
  close(): Promise<void>;
}

/** The standalone server: the proxy app on an HTTP or HTTPS listener, with websockets. */
export function createCloneProxyServer(
  config: Readonly<ServerConfig>,
  options: { logger?: Logger } = {},
): CloneProxyServer {
  const logger = options.logger ?? createSilentLogger();
  const proxyOptions: CloneProxyMiddlewareOptions = {
    ...toProxyOptions(config),
    admin: config.adminListen === undefined,
  };

  const proxy = createCloneProxy(proxyOptions, { logger });
  const admin = config.adminListen ? createAdminListener(proxy) : undefined;
  let adminUrl: string | undefined;

  const server = config.tls
    ? createHttpsServer({ cert: config.tls.cert, key: config.tls.key }, proxy.listener)
    : createHttpServer(proxy.listener);
  const upgraded = new Set<Socket>();
  let stopping: Promise<void> | undefined;
  server.on('upgrade', (req, socket: Socket, head) => {
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
    proxy.middleware.upgrade(req, socket, head);
  });

  return {
    server,
    proxy,
    adminServer: admin?.server,
    get adminUrl() {
      return adminUrl;
    },
    async listen() {
      const url = await listen(server, config.listen, Boolean(config.tls));
      if (admin && config.adminListen) {
        adminUrl = await listen(admin.server, config.adminListen, false).catch(async (error) => {
          await new Promise((resolve) => server.close(resolve));
          throw error;
        });
      }
      // Listening comes first (start-up time), and so does the line that says so: loading
      // undici blocks for about 80 ms. The first clone should not wait for it either. A server
      // closed by then has no clone to come, and would leave the agent open.
      setTimeout(() => {
        if (!stopping) proxy.middleware.warmUp();
      }, WARM_UP_DELAY_MS).unref();
      return url;
    },
    close() {
      stopping ??= stop();
      return stopping;
    },
  };

  async function stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const withdrawn = proxy.middleware.lanes
      .list()
      .reduce((sum, lane) => sum + lane.waitingCount, 0);
    if (withdrawn > 0) logger.warn('clones answered 503 at shutdown', { withdrawn });
    await proxy.middleware.close(config.shutdownTimeoutMs);

    // Passthrough requests still under way get a short grace to finish; then all goes.
    for (const socket of upgraded) socket.end();
    server.closeIdleConnections();
    await Promise.race([closed, sleep(PASSTHROUGH_GRACE_MS, undefined, { ref: false })]);
    for (const socket of upgraded) socket.destroy();
    server.closeAllConnections();

    // The admin listener stays up to the end, so the drain can be watched.
    if (admin) {
      const adminClosed = new Promise((resolve) => admin.server.close(resolve));
      admin.server.closeAllConnections();
      await Promise.all([adminClosed, admin.router.close()]);
    }
  }
}

/** The admin endpoints on a listener of their own (plain HTTP), and `/` leading to the page. */
function createAdminListener(proxy: CloneProxy): { server: Server; router: CloneProxyAdmin } {
  const router = createCloneProxyAdmin(proxy.middleware);
  const app = express();
  app.disable('x-powered-by');
  app.get('/', (_req, res) => res.redirect(`${ADMIN_PREFIX}/status`));
  app.use(router);
  return { server: createHttpServer(app), router };
}

const PASSTHROUGH_GRACE_MS = 2000;
const WARM_UP_DELAY_MS = 50;

/** Listen on an address; a failure names the address and the reason (`CLONE_PROXY_LISTEN_FAILED`). */
export function listen(server: Server, address: ListenAddress, tls: boolean): Promise<string> {
  const wanted = formatListenAddress(address);
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      const reason =
        error.code === 'EADDRINUSE' ? 'address already in use' : (error.code ?? error.message);
      reject(
        new ProxyError('CLONE_PROXY_LISTEN_FAILED', `cannot listen on ${wanted}: ${reason}`, {
          cause: error,
        }),
      );
    };
    server.once('error', onError);
    server.listen(address.port, address.host, () => {
      server.off('error', onError);
      const address = server.address() as AddressInfo;
      const host = formatListenAddress({ host: address.address, port: address.port });
      resolve(`${tls ? 'https' : 'http'}://${host}`);
    });
  });
}
