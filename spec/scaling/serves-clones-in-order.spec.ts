import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

import { createFakePve, type FakePve } from '../../lib/fake-pve';
import { type Reply, sendClone } from '../support/http-client';
import { type Proxies, startProxies } from './support/proxies';
import { type RedisServer, startRedisServer } from './support/redis-server';

// Submissions this far apart reach Redis in the order they were sent; closer ones may swap
// (docs/scaling.md, "Fairness").
const SPACING_MS = 40;

describe('fairness across two proxies', () => {
  let redis: RedisServer;
  let pve: FakePve;
  let proxies: Proxies;

  before(async () => {
    redis = await startRedisServer();
    pve = createFakePve({ taskDurationMs: 150, authDelayMs: 0 });
    proxies = await startProxies(2, await pve.listen(0, '127.0.0.1'), { redisUrl: redis.url });
  });

  after(async () => {
    await proxies.close();
    await pve.close();
    await redis.close();
  });

  it('should start clones of one lane in the order they were submitted', async () => {
    const newids = [201, 202, 203, 204, 205, 206, 207, 208];
    const replies: Promise<Reply>[] = [];
    for (const [index, newid] of newids.entries()) {
      replies.push(sendClone(proxies.urls[index % 2], `newid=${newid}&full=1`));
      await sleep(SPACING_MS);
    }

    for (const reply of await Promise.all(replies)) assert.equal(reply.status, 200);
    const started = pve.record.cloneTasks.toSorted((a, b) => a.startedAt - b.startedAt);
    assert.deepEqual(
      started.map((task) => task.newid),
      newids,
    );
    assert.equal(pve.record.maxConcurrentCloneTasks, 1);
  });
});
