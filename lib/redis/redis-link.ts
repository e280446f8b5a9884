import type Redis from 'ioredis';

import { maskUrlPassword, type RedisFailureMode } from '../config/proxy-config';
import type { Logger } from '../observe/logger';

// A dead Redis must never hang a clone: every wait on it is bounded by about a second.
const CONNECT_TIMEOUT_MS = 1000;
const COMMAND_TIMEOUT_MS = 1000;
const RECONNECT_MAX_DELAY_MS = 1000;

/**
 * The one connection a proxy keeps to the shared store, for lane locks and nextid holds. It
 * knows whether Redis is in an outage, so that the outage is logged once rather than per call.
 */
export interface RedisLink {
  readonly client: Redis;
  readonly failure: RedisFailureMode;
  /** The URL with any password masked, for messages. */
  readonly where: string;
  /** Run commands; a failure starts an outage (logged once), a success ends it. */
  run<T>(command: (client: Redis) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export function createRedisLink(url: string, failure: RedisFailureMode, logger: Logger): RedisLink {
  const where = maskUrlPassword(url);
  // Loaded here, not at the top: a proxy without Redis should not pay its start-up time.
  const { default: RedisClient } = require('ioredis') as typeof import('ioredis');
  const client = new RedisClient(url, {
    connectTimeout: CONNECT_TIMEOUT_MS,
    commandTimeout: COMMAND_TIMEOUT_MS,
    maxRetriesPerRequest: 1,
    // Fail at once while disconnected instead of queueing behind a reconnect.
    enableOfflineQueue: false,
    retryStrategy: (times) => Math.min(times * 100, RECONNECT_MAX_DELAY_MS),
    connectionName: 'pve-clone-proxy',
  });

  let outage = false;
  const fail = (error: unknown) => {
    if (outage) return;
    outage = true;
    const effect =
      failure === 'closed'
        ? 'clones are answered 503 until it is back'
        : 'each proxy serializes its clones alone until it is back';
    logger.warn(`redis unreachable; ${effect}`, {
      redis: where,
      reason: (error as Error)?.message ?? String(error),
    });
  };
  const recover = () => {
    if (!outage) return;
    outage = false;
    logger.info('redis reachable again', { redis: where });
  };
  client.on('error', fail);
  client.on('ready', recover);

  return {
    client,
    failure,
    where,
    async run(command) {
      // Right after start the first connection may still be on its way.
      if (!outage && ['wait', 'connecting', 'connect'].includes(client.status)) {
        await whenReady(client, CONNECT_TIMEOUT_MS);
      }
      try {
        const result = await command(client);
        recover();
        return result;
      } catch (error) {
        fail(error);
        throw error;
      }
    },
    async close() {
      client.off('error', fail);
      client.on('error', () => {});
      if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
      else client.disconnect();
    },
  };
}

function whenReady(client: Redis, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      client.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    client.once('ready', done);
  });
}
