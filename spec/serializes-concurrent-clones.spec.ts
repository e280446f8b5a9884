import assert from 'node:assert/strict';

import { type Reply, sendClone } from './support/http-client';
import { type Stack, startStack } from './support/stack';

describe('concurrent clones of one template', () => {
  let stack: Stack;

  beforeEach(async () => {
    stack = await startStack({ pve: { taskDurationMs: 150 } });
  });

  afterEach(() => stack.close());

  const burst = (baseUrl: string, count: number) =>
    Promise.all(
      Array.from({ length: count }, (_unused, index) =>
        sendClone(baseUrl, `newid=${201 + index}&hostname=ct-${201 + index}&full=1`).then(
          (reply) => ({
            reply,
            answeredAt: Date.now(),
          }),
        ),
      ),
    );

  it('should fail at least one with CT is locked (disk) when sent straight to PVE', async () => {
    const results = await burst(stack.pveUrl, 8);

    const locked = results.filter(({ reply }) => reply.status === 500);
    assert.ok(locked.length >= 1, 'expected at least one lock error');
    for (const { reply } of locked) {
      assert.equal(reply.reason, 'CT is locked (disk)');
      assert.deepEqual(reply.json(), { data: null, message: 'CT is locked (disk)\n' });
    }
  });

  it('should run all 8 through the proxy, one task at a time, each answered after its task', async () => {
    const results = await burst(stack.proxyUrl, 8);

    for (const { reply } of results) {
      assert.equal(reply.status, 200, reply.body.toString());
      assert.match(
        reply.json().data,
        /^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:vzclone:9000:root@pam!test:$/,
      );
      assert.equal(reply.headers['x-clone-proxy-task'], 'stopped');
      assert.equal(reply.headers['x-clone-proxy-exitstatus'], 'OK');
    }
    assert.equal(stack.pve.record.maxConcurrentCloneTasks, 1);
    assert.equal(stack.pve.record.cloneTasks.length, 8);

    for (const { reply, answeredAt } of results) {
      const task = stack.pve.record.cloneTasks.find((entry) => entry.upid === reply.json().data);
      assert.ok(task?.endedAt, 'task must have ended');
      assert.ok(answeredAt >= task.endedAt, 'client answered before its task stopped');
    }
  });

  it('should relay PVE answer bytes unchanged apart from its own headers', async () => {
    const reply: Reply = await sendClone(stack.proxyUrl, 'newid=301&full=1');
    const task = stack.pve.record.cloneTasks[0];
    assert.equal(reply.body.toString(), JSON.stringify({ data: task.upid }));
    assert.equal(reply.headers.server, 'pve-api-daemon/3.0');
    assert.ok(reply.headers['x-clone-proxy-request-id']);
    assert.ok(Number(reply.headers['x-clone-proxy-task-ms']) >= 150);
  });
});
