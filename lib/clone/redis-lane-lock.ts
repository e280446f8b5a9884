import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { ProxyError } from '../errors';
import type { Logger } from '../observe/logger';
import { createLaneKeys, defineLaneScripts, type LaneKeys } from '../redis/lane-scripts';
import type { RedisLink } from '../redis/redis-link';
import type { LaneLease, LaneLock, LaneLockWaiter } from './lane-lock';

// How often a waiter asks whether its turn came; each ask also renews its heartbeat.
const TURN_POLL_MS = 25;

export interface RedisLaneLockOptions {
  /** How long the lock outlives its owner's last renewal; renewed every third of it. */
  leaseMs: number;
  /** How long a recorded UPID outlives the last renewal: as long as a task may be followed. */
  taskTtlMs: number;
  logger: Logger;
}

interface RedisLease extends LaneLease {
  /** Stop renewing without releasing: the lock then runs out, and its task stays recorded. */
  abandon(): void;
}

// With CLONE_PROXY_REDIS_FAILURE=local, an unreachable Redis leaves only the lane's own queue.
const LOCAL_LEASE: LaneLease = { recordTask: async () => {}, release: async () => {} };

/**
 * A lane lock shared by every proxy on one Redis. Waiters line up by ticket, the owner holds a
 * renewed lease and records its task's UPID beside it, so that whoever takes the lane after an
 * owner died first waits for that task. docs/scaling.md says what this guarantees.
 */
export function createRedisLaneLock(link: RedisLink, options: RedisLaneLockOptions): LaneLock {
  const { leaseMs, taskTtlMs, logger } = options;
  const scripts = defineLaneScripts(link.client);
  const leases = new Set<RedisLease>();
  let closed = false;

  /** Stand in line until the lock is ours; undefined once the waiter gave up its place. */
  const waitForTurn = async (keys: LaneKeys, token: string, waiter: LaneLockWaiter) => {
    let joined = false;
    for (;;) {
      if (waiter.isCancelled() || closed) {
        if (joined) await link.run(() => scripts.leave(keys, token));
        return undefined;
      }
      const turn = await link.run(() => scripts.takeTurn(keys, token, leaseMs, leaseMs));
      if (turn.taken) return turn;
      joined = true;
      await sleep(TURN_POLL_MS);
    }
  };

  const startLease = (lane: string, keys: LaneKeys, token: string): RedisLease => {
    let recording: Promise<unknown> = Promise.resolve();
    let renewing = false;
    const renew = async () => {
      if (renewing) return;
      renewing = true;
      try {
        if (!(await link.run(() => scripts.renew(keys, token, leaseMs, taskTtlMs)))) {
          clearInterval(timer);
          logger.warn('lane lease lost: another proxy may take the lane', { lane });
        }
      } catch {
        // The link logged the outage; the lease runs out unless a later renewal gets through.
      } finally {
        renewing = false;
      }
    };
    const timer = setInterval(renew, Math.max(1, Math.floor(leaseMs / 3)));
    timer.unref();

    const lease: RedisLease = {
      async recordTask(upid) {
        recording = recording
          .then(() => link.run(() => scripts.recordTask(keys, token, upid, taskTtlMs)))
          .then((recorded) => {
            if (!recorded) logger.warn('task not recorded: lane lease lost', { lane, upid });
          })
          .catch(() => logger.warn('task not recorded: redis unreachable', { lane, upid }));
        await recording;
      },
      async release() {
        lease.abandon();
        await recording;
        await link.run(() => scripts.release(keys, token)).catch(() => {});
      },
      abandon() {
        clearInterval(timer);
        leases.delete(lease);
      },
    };
    leases.add(lease);
    return lease;
  };

  const fallBack = (error: unknown, waiter: LaneLockWaiter): LaneLease | undefined => {
    if (link.failure === 'local') return waiter.isCancelled() ? undefined : LOCAL_LEASE;
    const reason = (error as Error)?.message ?? String(error);
    throw new ProxyError(
      'CLONE_PROXY_LOCK_UNAVAILABLE',
      `shared lane lock unavailable: Redis unreachable (${reason})`,
      { cause: error },
    );
  };

  return {
    async acquire(lane, waiter) {
      const keys = createLaneKeys(lane);
      const token = randomBytes(16).toString('hex');
      let upid: string | undefined;
      try {
        const turn = await waitForTurn(keys, token, waiter);
        if (!turn) return undefined;
        upid = turn.upid;
      } catch (error) {
        return fallBack(error, waiter);
      }

      const lease = startLease(lane, keys, token);
      if (!upid) return lease;

      // The previous owner vanished after starting a task: it may still run.
      try {
        await waiter.waitForTask(upid);
      } catch (error) {
        await lease.release();
        throw error;
      }
      await link.run(() => scripts.forgetTask(keys, token)).catch(() => {});
      return lease;
    },
    async close() {
      closed = true;
      for (const lease of leases) lease.abandon();
    },
  };
}
