import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';

import { createFakePve, type FakePve } from '../../lib/fake-pve';
import { createLaneKeys } from '../../lib/redis/lane-scripts';
import { sendClone } from '../support/http-client';
import { startServerProcess } from '../support/server-process';
import { until } from '../support/until';
import { type Proxies, startProxies } from './support/proxies';
import { type RedisServer, startRedisServer } from './support/redis-server';

const LEASE_MS = 500;
const FIRST_TASK_MS = 1500;

describe('a proxy killed while it holds the lane', () => {
  let redis: RedisServer;
  let pve: FakePve;
  let pveUrl: string;
  let proxies: Proxies;
  let child: ChildProcess | undefined;

  before(async () => {
    redis = await startRedisServer();
    pve = createFakePve({
      authDelayMs: 0,
      taskDurationMs: (clone) => (clone.newid === 201 ? FIRST_TASK_MS : 100),
    });
    pveUrl = await pve.listen(0, '127.0.0.1');
    proxies = await startProxies(2, pveUrl, { redisUrl: redis.url, redisLeaseMs: LEASE_MS });
  });

  after(async () => {
    child?.kill('SIGKILL');
    await proxies.close();
    await pve.close();
    await redis.close();
  });

  /** The standalone server as a child process, as systemd would run it; resolves its URL. */
  const startChild = async (): Promise<string> => {
    const server = await startServerProcess({
      CLONE_PROXY_TARGET: pveUrl,
      CLONE_PROXY_POLL_INTERVAL: '20ms',
      CLONE_PROXY_REDIS_URL: redis.url,
      CLONE_PROXY_REDIS_LEASE: `${LEASE_MS}ms`,
      CLONE_PROXY_LOG_FORMAT: 'json',
    });
    child = server.child;
    return server.url;
  };

  it('should let the others go on after the lease, never beside the task still running', async () => {
    const childUrl = await startChild();
    const doomed = sendClone(childUrl, 'newid=201&full=1').catch((error: Error) => error);
    await until(() => pve.record.runningCloneTasks() === 1, 'the child’s clone task runs');
    // The child records the UPID in Redis a moment after PVE started the task (docs/scaling.md).
    const upid = pve.record.cloneTasks[0].upid;
    for (let tries = 0; tries < 100; tries += 1) {
      if ((await redis.command('GET', createLaneKeys('global').task)) === upid) break;
    }
    assert.equal(await redis.command('GET', createLaneKeys('global').task), upid);

    const replies = Promise.all([
      sendClone(proxies.urls[0], 'newid=202&full=1'),
      sendClone(proxies.urls[1], 'newid=203&full=1'),
    ]);
    child?.kill('SIGKILL');
    assert.ok((await doomed) instanceof Error, 'the child’s client lost its connection');

    for (const reply of await replies) {
      assert.equal(reply.status, 200, reply.body.toString());
      assert.equal(reply.headers['x-clone-proxy-task'], 'stopped');
    }
    const [first, ...others] = pve.record.cloneTasks;
    assert.equal(first.newid, 201);
    assert.equal(first.exitstatus, 'OK', 'the orphaned task ran to its end');
    assert.equal(pve.record.maxConcurrentCloneTasks, 1);
    for (const task of others) {
      assert.ok(task.startedAt >= (first.endedAt ?? Infinity), `${task.newid} started too early`);
    }
    assert.deepEqual(others.map((task) => task.newid).toSorted(), [202, 203]);
  });
});
