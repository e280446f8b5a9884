import { createServer as createHttpServer, Agent as HttpAgent, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import { claimsRequest } from '../claims';
import type { ServerConfig } from '../config/server-config';
import type { Logger } from '../observe/logger';
import { createPassthrough, createPassthroughAgent } from '../passthrough';
import { listen } from '../server';

export interface FrontServer {
  server: Server;
  listen(): Promise<string>;
  /** Stop taking connections and let the requests under way (forwarded clones too) finish. */
  close(): Promise<void>;
}

/**
 * One worker of CLONE_PROXY_WORKERS: it takes the public connections and proxies everything
 * to PVE itself, on its own core, except what needs the one clone queue (clones, admin paths,
 * nextid reservations), which it forwards to the process that owns the queue.
 */
export function createFrontServer(
  config: Readonly<ServerConfig>,
  ownerUrl: string,
  logger: Logger,
): FrontServer {
  const pveAgent = createPassthroughAgent(config);
  const toPve = createPassthrough(config, logger, pveAgent);
  const ownerAgent = new HttpAgent({ keepAlive: true });
  const owner = {
    ...config,
    target: ownerUrl,
    ca: undefined,
    tlsFingerprint: undefined,
    skipTlsVerify: false,
  };
  const toOwner = createPassthrough(owner, logger, ownerAgent);
  const admin = config.adminListen === undefined;

  const listener = (req: Parameters<typeof toPve>[0], res: Parameters<typeof toPve>[1]) => {
    const next = () => res.destroy();
    if (claimsRequest(req, config, admin)) return void toOwner(req, res, next);
    toPve(req, res, next);
  };
  const server = config.tls
    ? createHttpsServer({ cert: config.tls.cert, key: config.tls.key }, listener)
    : createHttpServer(listener);
  const tunnels = new Set<Socket>();
  server.on('upgrade', (req, socket: Socket, head) => {
    tunnels.add(socket);
    socket.once('close', () => tunnels.delete(socket));
    toPve.upgrade(req, socket as never, head);
  });

  return {
    server,
    listen: () => listen(server, config.listen, Boolean(config.tls)),
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive connections go as soon as their last answer is out.
      const sweep = setInterval(() => server.closeIdleConnections(), 100);
      server.closeIdleConnections();
      // A forwarded clone in flight is answered once its task stopped, within the owner's drain.
      await Promise.race([
        closed,
        sleep(config.shutdownTimeoutMs + 5000, undefined, { ref: false }),
      ]);
      clearInterval(sweep);
      for (const socket of tunnels) socket.destroy();
      server.closeAllConnections();
      pveAgent.destroy();
      ownerAgent.destroy();
    },
  };
}
