import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';

import { createFakePve, type FakePve } from '../lib/fake-pve';
import { send, sendClone, TOKEN } from './support/http-client';
import { startServerProcess } from './support/server-process';

describe('CLONE_PROXY_WORKERS=2: workers on the listener, one clone queue', () => {
  let pve: FakePve;
  let child: ChildProcess | undefined;

  beforeEach(() => {
    pve = createFakePve({ taskDurationMs: 150, authDelayMs: 0 });
  });

  afterEach(async () => {
    child?.kill('SIGKILL');
    await pve.close();
  });

  it('should serialize clones arriving through either worker, pass the rest, and stop on SIGTERM', async () => {
    const target = await pve.listen(0, '127.0.0.1');
    const server = await startServerProcess({
      CLONE_PROXY_TARGET: target,
      CLONE_PROXY_POLL_INTERVAL: '20ms',
      CLONE_PROXY_WORKERS: '2',
    });
    child = server.child;

    const replies = await Promise.all(
      [201, 202, 203, 204, 205].map((newid) => sendClone(server.url, `newid=${newid}&full=1`)),
    );
    for (const reply of replies) {
      assert.equal(reply.status, 200, reply.body.toString());
      assert.equal(reply.headers['x-clone-proxy-task'], 'stopped');
    }
    assert.equal(pve.record.maxConcurrentCloneTasks, 1);
    assert.equal(pve.record.cloneTasks.length, 5);

    const version = await send(server.url, {
      path: '/api2/json/version',
      headers: { Authorization: TOKEN },
    });
    assert.equal(version.status, 200);
    const queue = await send(server.url, { path: '/_clone-proxy/queue' });
    assert.equal(queue.json().finished.length, 5, 'the admin view is the one queue of all workers');

    child.kill('SIGTERM');
    assert.equal(await server.exit, 0);
  });
});
