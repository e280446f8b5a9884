import assert from 'node:assert/strict';

import { createFakePve, type FakePve } from '../../lib/fake-pve';
import { sendClone } from '../support/http-client';
import { type Proxies, startProxies } from './support/proxies';
import { type RedisServer, startRedisServer } from './support/redis-server';

describe('three proxies on one Redis', () => {
  let redis: RedisServer;
  let pve: FakePve;
  let proxies: Proxies;

  before(async () => {
    redis = await startRedisServer();
    pve = createFakePve({ taskDurationMs: 60, authDelayMs: 0 });
    proxies = await startProxies(3, await pve.listen(0, '127.0.0.1'), {
      redisUrl: redis.url,
      redisLeaseMs: 2000,
    });
  });

  after(async () => {
    await proxies.close();
    await pve.close();
    await redis.close();
  });

  it('should never let PVE run two clones at once, and send all 12', async () => {
    const newids = Array.from({ length: 12 }, (_, index) => 201 + index);
    const replies = await Promise.all(
      newids.map((newid, index) => sendClone(proxies.urls[index % 3], `newid=${newid}&full=1`)),
    );

    for (const reply of replies) {
      assert.equal(reply.status, 200, reply.body.toString());
      assert.match(reply.json().data, /^UPID:pve1:.*:vzclone:9000:/);
      assert.equal(reply.headers['x-clone-proxy-task'], 'stopped');
    }
    assert.equal(pve.record.maxConcurrentCloneTasks, 1);
    assert.deepEqual(
      pve.record.cloneTasks.map((task) => task.newid).toSorted((a, b) => a - b),
      newids,
    );
    assert.ok(
      pve.record.cloneTasks.every((task) => task.exitstatus === 'OK'),
      'every task ended OK',
    );
  });
});
