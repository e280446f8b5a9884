import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

import type { LaneLease, LaneLock, LaneLockWaiter } from '../../lib/clone/lane-lock';
import { createRedisLaneLock } from '../../lib/clone/redis-lane-lock';
import { isProxyError } from '../../lib/errors';
import { createSilentLogger } from '../../lib/observe/logger';
import { createLaneKeys } from '../../lib/redis/lane-scripts';
import { createRedisLink, type RedisLink } from '../../lib/redis/redis-link';
import { type RedisServer, startRedisServer } from './support/redis-server';

const LEASE_MS = 300;
const UPID = 'UPID:pve1:00001234:00005678:65000000:vzclone:9000:root@pam!test:';

interface Waiter extends LaneLockWaiter {
  cancelled: boolean;
  tasks: string[];
}

function createWaiter(): Waiter {
  const waiter: Waiter = {
    cancelled: false,
    tasks: [],
    isCancelled: () => waiter.cancelled,
    waitForTask: async (upid) => {
      waiter.tasks.push(upid);
    },
  };
  return waiter;
}

describe('the Redis lane lock', () => {
  let redis: RedisServer;
  const links: RedisLink[] = [];
  const locks: LaneLock[] = [];

  /** One more proxy's lock on the shared Redis. */
  const createLock = (failure: 'closed' | 'local' = 'closed') => {
    const link = createRedisLink(redis.url, failure, createSilentLogger());
    const lock = createRedisLaneLock(link, {
      leaseMs: LEASE_MS,
      taskTtlMs: 60_000,
      logger: createSilentLogger(),
    });
    links.push(link);
    locks.push(lock);
    return { link, lock };
  };

  // The spec's own connection, for looking into Redis.
  let inspector: RedisLink;
  const redisClient = () => inspector.client;

  before(async () => {
    redis = await startRedisServer();
    inspector = createRedisLink(redis.url, 'closed', createSilentLogger());
    await inspector.run((client) => client.ping());
  });

  afterEach(async () => {
    await Promise.all(locks.splice(0).map((lock) => lock.close()));
    await Promise.all(links.splice(0).map((link) => link.close()));
    await redisClient().flushall();
  });

  after(async () => {
    await inspector.close();
    await redis.close();
  });

  it('should hand the lane to one proxy at a time, in the order they asked', async () => {
    const proxies = [createLock(), createLock(), createLock()];
    const order: number[] = [];
    const first = await proxies[0].lock.acquire('global', createWaiter());
    assert.ok(first);

    const waiting = [1, 2].map(async (index) => {
      await sleep(index * 30);
      const lease = await proxies[index].lock.acquire('global', createWaiter());
      order.push(index);
      await sleep(30);
      await lease?.release();
    });
    await sleep(120);
    assert.deepEqual(order, [], 'nobody got in while the lane was held');

    await first.release();
    await Promise.all(waiting);
    assert.deepEqual(order, [1, 2]);
  });

  it('should let only the owner release, and hand a vanished owner’s task to the next', async () => {
    const [a, b, c] = [createLock(), createLock(), createLock()];
    const leaseA = (await a.lock.acquire('global', createWaiter())) as LaneLease;
    leaseA.recordTask(UPID);
    await sleep(20);
    await a.lock.close(); // A stops renewing, as if it had died

    const waiterB = createWaiter();
    const started = Date.now();
    const leaseB = await b.lock.acquire('global', waiterB);
    assert.ok(leaseB);
    assert.ok(Date.now() - started >= LEASE_MS - 50, 'B waited for the lease to run out');
    assert.deepEqual(waiterB.tasks, [UPID], 'B waited for the task A had recorded');

    await leaseA.release(); // too late: the lock is B's now
    const waiterC = createWaiter();
    const attempt = c.lock.acquire('global', waiterC);
    await sleep(LEASE_MS);
    waiterC.cancelled = true;
    assert.equal(await attempt, undefined, 'A’s late release did not free B’s lock');

    await leaseB.release();
    const leaseC = await c.lock.acquire('global', createWaiter());
    assert.ok(leaseC);
    assert.equal(await redisClient().exists(createLaneKeys('global').task), 0);
  });

  it('should skip a waiter whose proxy vanished once its heartbeat ran out', async () => {
    const [a, b, c] = [createLock(), createLock(), createLock()];
    const leaseA = (await a.lock.acquire('global', createWaiter())) as LaneLease;

    const lost = b.lock.acquire('global', createWaiter()).catch((error: unknown) => error);
    await sleep(50);
    const next = c.lock.acquire('global', createWaiter());
    await sleep(50);
    b.link.client.disconnect(); // B's ticket stays ahead of C's, and its heartbeat stops
    assert.ok(isProxyError(await lost));

    await leaseA.release();
    const started = Date.now();
    const leaseC = await next;
    assert.ok(leaseC);
    assert.ok(Date.now() - started < LEASE_MS + 300, 'C did not wait much past B’s heartbeat');
    assert.equal(await redisClient().zcard(createLaneKeys('global').queue), 0);
  });

  it('should give up the place of a cancelled waiter', async () => {
    const [a, b] = [createLock(), createLock()];
    const leaseA = (await a.lock.acquire('global', createWaiter())) as LaneLease;
    const waiterB = createWaiter();
    const attempt = b.lock.acquire('global', waiterB);
    await sleep(50);
    assert.equal(await redisClient().zcard(createLaneKeys('global').queue), 1);

    waiterB.cancelled = true;
    assert.equal(await attempt, undefined);
    assert.equal(await redisClient().zcard(createLaneKeys('global').queue), 0);
    await leaseA.release();
  });

  it('should keep lanes apart', async () => {
    const [a, b] = [createLock(), createLock()];
    const leases = await Promise.all([
      a.lock.acquire('node/pve1', createWaiter()),
      b.lock.acquire('node/pve2', createWaiter()),
    ]);
    assert.ok(leases.every(Boolean));
    await Promise.all(leases.map((lease) => lease?.release()));
  });
});
