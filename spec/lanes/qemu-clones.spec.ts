import assert from 'node:assert/strict';

import { sendClone } from '../support/http-client';
import { type Stack, startStack } from '../support/stack';

const qemuClone = '/api2/json/nodes/pve1/qemu/9001/clone';

describe('QEMU clones', () => {
  let stack: Stack;

  afterEach(() => stack.close());

  it('should reach PVE at once, unqueued, by default', async () => {
    stack = await startStack({ pve: { taskDurationMs: 300 } });
    const replies = await Promise.all(
      [301, 302, 303].map((newid) =>
        sendClone(stack.proxyUrl, `newid=${newid}&full=1`, { path: qemuClone }),
      ),
    );

    for (const reply of replies) {
      assert.equal(reply.status, 200);
      assert.equal(reply.headers['x-clone-proxy-task'], undefined);
    }
    assert.equal(stack.pve.record.maxConcurrentCloneTasks, 3);
  });

  it('should be serialized with CLONE_PROXY_MATCH=lxc,qemu', async () => {
    stack = await startStack({ pve: { taskDurationMs: 200 }, proxy: { match: ['lxc', 'qemu'] } });
    const replies = await Promise.all(
      [301, 302, 303].map((newid) =>
        sendClone(stack.proxyUrl, `newid=${newid}&full=1`, { path: qemuClone }),
      ),
    );

    for (const reply of replies) {
      assert.equal(reply.status, 200);
      assert.match(reply.json().data, /:qmclone:9001:/);
      assert.equal(reply.headers['x-clone-proxy-task'], 'stopped');
    }
    assert.equal(stack.pve.record.maxConcurrentCloneTasks, 1);
  });
});
