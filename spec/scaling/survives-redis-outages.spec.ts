import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

import { createFakePve, type FakePve } from '../../lib/fake-pve';
import { sendClone } from '../support/http-client';
import { createLogCapture } from '../support/log-capture';
import { type Proxies, startProxies } from './support/proxies';
import { type RedisServer, startRedisServer } from './support/redis-server';

describe('Redis out of reach', () => {
  let redis: RedisServer;
  let pve: FakePve;
  let pveUrl: string;
  let proxies: Proxies | undefined;

  beforeEach(async () => {
    redis = await startRedisServer();
    pve = createFakePve({ taskDurationMs: 100, authDelayMs: 0 });
    pveUrl = await pve.listen(0, '127.0.0.1');
  });

  afterEach(async () => {
    await proxies?.close();
    await pve.close();
    await redis.close();
  });

  it('should answer 503 with Retry-After by default (CLONE_PROXY_REDIS_FAILURE=closed)', async () => {
    proxies = await startProxies(1, pveUrl, { redisUrl: redis.url });
    const before = await sendClone(proxies.urls[0], 'newid=201&full=1');
    assert.equal(before.status, 200, before.body.toString());

    await redis.stop();
    const started = Date.now();
    const refused = await sendClone(proxies.urls[0], 'newid=202&full=1');
    assert.ok(Date.now() - started < 3000, 'the dead Redis did not hold the clone long');
    assert.equal(refused.status, 503);
    assert.equal(refused.headers['x-clone-proxy-error'], 'CLONE_PROXY_LOCK_UNAVAILABLE');
    assert.match(String(refused.headers['retry-after']), /^\d+$/);
    assert.equal(refused.json().data, null);
    assert.match(
      refused.json().message,
      /shared lane lock unavailable: Redis unreachable .*; clone not sent/,
    );
    assert.deepEqual(
      pve.record.cloneTasks.map((task) => task.newid),
      [201],
      'the refused clone never reached PVE',
    );

    await redis.start();
    let after = await sendClone(proxies.urls[0], 'newid=203&full=1');
    // The proxy reconnects within a second; until then clones are still refused.
    for (let tries = 0; tries < 30 && after.status === 503; tries += 1) {
      await sleep(100);
      after = await sendClone(proxies.urls[0], 'newid=203&full=1');
    }
    assert.equal(after.status, 200, 'clones go again once Redis is back');
  });

  it('should keep serializing in this process with CLONE_PROXY_REDIS_FAILURE=local', async () => {
    const capture = createLogCapture({ level: 'info' });
    proxies = await startProxies(
      1,
      pveUrl,
      { redisUrl: redis.url, redisFailure: 'local' },
      capture.logger,
    );
    await redis.stop();

    const replies = await Promise.all(
      [201, 202, 203].map((newid) => sendClone(proxies?.urls[0] ?? '', `newid=${newid}&full=1`)),
    );
    for (const reply of replies) {
      assert.equal(reply.status, 200, reply.body.toString());
      assert.equal(reply.headers['x-clone-proxy-task'], 'stopped');
    }
    assert.equal(pve.record.maxConcurrentCloneTasks, 1);
    assert.equal(pve.record.cloneTasks.length, 3);
    const warnings = capture
      .lines()
      .filter((line) => /^redis unreachable/.test(String(line.message)));
    assert.equal(warnings.length, 1, 'one warning for the whole outage');
    assert.equal(warnings[0].level, 'warn');
  });
});
