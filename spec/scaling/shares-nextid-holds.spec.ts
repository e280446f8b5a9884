import assert from 'node:assert/strict';

import { createFakePve, type FakePve } from '../../lib/fake-pve';
import { send, sendClone, TOKEN } from '../support/http-client';
import { type Proxies, startProxies } from './support/proxies';
import { type RedisServer, startRedisServer } from './support/redis-server';

describe('CLONE_PROXY_NEXTID=reserve on two proxies sharing Redis', () => {
  let redis: RedisServer;
  let pve: FakePve;
  let proxies: Proxies;

  before(async () => {
    redis = await startRedisServer();
    pve = createFakePve({ taskDurationMs: 30, authDelayMs: 0 });
    proxies = await startProxies(2, await pve.listen(0, '127.0.0.1'), {
      redisUrl: redis.url,
      nextid: 'reserve',
    });
  });

  after(async () => {
    await proxies.close();
    await pve.close();
    await redis.close();
  });

  it('should give 10 concurrent callers, split over both, 10 distinct ids', async () => {
    const replies = await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        send(proxies.urls[index % 2], {
          path: '/api2/json/cluster/nextid',
          headers: { Authorization: TOKEN },
        }),
      ),
    );
    const ids = replies.map((reply) => {
      assert.equal(reply.status, 200, reply.body.toString());
      return Number(reply.json().data);
    });
    assert.equal(new Set(ids).size, 10, `ids handed out: ${ids.join(', ')}`);
    const held = await redis.command('KEYS', 'pve-clone-proxy:nextid:*');
    assert.equal(held.split('\n').length, 10, 'every id is held in Redis');

    const clones = await Promise.all(
      ids.map((id, index) => sendClone(proxies.urls[index % 2], `newid=${id}&full=1`)),
    );
    for (const clone of clones) assert.equal(clone.status, 200, clone.body.toString());
    assert.equal(pve.record.maxConcurrentCloneTasks, 1);
  });
});
