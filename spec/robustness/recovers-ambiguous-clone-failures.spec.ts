import assert from 'node:assert/strict';

import { sendClone } from '../support/http-client';
import { type Stack, startStack } from '../support/stack';

describe('a clone request that fails after it was sent', () => {
  let stack: Stack;

  afterEach(() => stack.close());

  it('should find the task PVE started anyway, wait for it, and name its UPID', async () => {
    stack = await startStack({ pve: { taskDurationMs: 400 } });
    stack.pve.faults.dropCloneAnswers(1);

    const [lost, next] = await Promise.all([
      sendClone(stack.proxyUrl, 'newid=201&full=1'),
      sendClone(stack.proxyUrl, 'newid=202&full=1'),
    ]);

    const task = stack.pve.record.cloneTasks.find((entry) => entry.newid === 201);
    assert.ok(task, 'the double started the first task');
    assert.equal(lost.status, 502);
    assert.equal(lost.headers['x-clone-proxy-error'], 'CLONE_PROXY_UPSTREAM_RESET');
    assert.equal(lost.headers['x-clone-proxy-upid'], task.upid);
    assert.equal(lost.headers['x-clone-proxy-task'], 'stopped');
    assert.match(
      lost.json().message,
      new RegExp(`PVE started clone task ${task.upid.replace(/[!]/g, '\\$&')} \\(ended: OK\\)`),
    );

    assert.equal(next.status, 200);
    assert.equal(
      stack.pve.record.maxConcurrentCloneTasks,
      1,
      'the next clone ran beside the lost one',
    );
  });

  it('should say no task was found when PVE did not start one', async () => {
    stack = await startStack({ pve: { taskDurationMs: 100 }, proxy: { requestTimeoutMs: 200 } });
    stack.pve.faults.delayClones(1, 1000);

    const reply = await sendClone(stack.proxyUrl, 'newid=201&full=1');
    assert.equal(reply.status, 504);
    assert.equal(reply.headers['x-clone-proxy-error'], 'CLONE_PROXY_UPSTREAM_TIMEOUT');
    assert.match(
      reply.json().message,
      /did not answer in time.*no clone task was found on node pve1/,
    );
    assert.equal(reply.headers['x-clone-proxy-upid'], undefined);
  });
});
