import cluster, { type Worker } from 'node:cluster';
import { setTimeout as sleep } from 'node:timers/promises';

import type { ServerConfig } from '../config/server-config';
import { ProxyError } from '../errors';
import type { Logger } from '../observe/logger';
import { type CloneProxyServer, createCloneProxyServer } from '../server';
import { createFrontServer } from './front-server';

// How the primary tells its workers where the queue lives; not a setting for operators.
const OWNER_VARIABLE = 'PVE_CLONE_PROXY_OWNER_URL';

type WorkerMessage = { listening: string } | { failed: string };

/**
 * CLONE_PROXY_WORKERS > 1, primary side. Node proxies one request at a time per core, so the
 * public listener is served by workers on every core, while the clone queue stays in this one
 * process (a second queue would break the one-clone-at-a-time promise): it listens on loopback
 * only, and the workers forward clones, admin paths and nextid reservations to it.
 */
export async function startClusterPrimary(
  config: Readonly<ServerConfig>,
  logger: Logger,
): Promise<{ url: string; owner: CloneProxyServer; close: () => Promise<void> }> {
  const owner = createCloneProxyServer(
    { ...config, listen: { host: '127.0.0.1', port: 0 }, tls: undefined },
    { logger },
  );
  const ownerUrl = await owner.listen();

  let stopping = false;
  const fork = () => cluster.fork({ [OWNER_VARIABLE]: ownerUrl });
  const ready = Array.from({ length: config.workers }, () => waitForWorker(fork()));
  cluster.on('exit', (worker, code) => {
    if (stopping) return;
    logger.error('worker exited; starting another', { pid: worker.process.pid, code });
    waitForWorker(fork()).catch(() => {});
  });

  let url: string;
  try {
    url = (await Promise.all(ready))[0];
  } catch (error) {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill();
    await owner.close();
    throw error;
  }

  return {
    url,
    owner,
    async close() {
      stopping = true;
      const workers = Object.values(cluster.workers ?? {}).filter(
        (worker): worker is Worker => !!worker,
      );
      const exited = Promise.all(
        workers.map((worker) => new Promise((resolve) => worker.once('exit', resolve))),
      );
      for (const worker of workers) worker.send('shutdown');
      await owner.close();
      await Promise.race([
        exited,
        sleep(config.shutdownTimeoutMs + 10_000, undefined, { ref: false }),
      ]);
      for (const worker of workers) if (!worker.isDead()) worker.kill('SIGKILL');
    },
  };
}

function waitForWorker(worker: Worker): Promise<string> {
  return new Promise((resolve, reject) => {
    worker.once('message', (message: WorkerMessage) => {
      if ('listening' in message) resolve(message.listening);
      else reject(new ProxyError('CLONE_PROXY_LISTEN_FAILED', message.failed));
    });
    worker.once('exit', (code) =>
      reject(new ProxyError('CLONE_PROXY_LISTEN_FAILED', `worker exited with ${code}`)),
    );
  });
}

/** Whether this process is a worker started by `startClusterPrimary`. */
export function isClusterWorker(): boolean {
  return cluster.isWorker && process.env[OWNER_VARIABLE] !== undefined;
}

/**
 * CLONE_PROXY_WORKERS > 1, worker side: serve the public listener until the primary says stop
 * (or a signal comes), then drain and exit. A worker whose primary is gone exits too.
 */
export async function runClusterWorker(
  config: Readonly<ServerConfig>,
  logger: Logger,
): Promise<void> {
  const front = createFrontServer(config, process.env[OWNER_VARIABLE] ?? '', logger);
  try {
    const url = await front.listen();
    process.send?.({ listening: url } satisfies WorkerMessage);
  } catch (error) {
    process.send?.({ failed: (error as Error).message } satisfies WorkerMessage);
    process.exit(2);
  }

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    front.close().then(() => process.exit(0));
  };
  process.on('message', (message) => message === 'shutdown' && stop());
  process.on('disconnect', stop);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
