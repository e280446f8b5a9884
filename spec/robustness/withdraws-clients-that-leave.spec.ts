import assert from 'node:assert/strict';

import { sendClone } from '../support/http-client';
import { type Stack, startStack } from '../support/stack';
import { until } from '../support/until';

describe('clients that leave', () => {
  let stack: Stack;

  afterEach(() => stack.close());

  const clonePostsFor = (newid: number) =>
    stack.pve.record.requests.filter(
      (request) => request.method === 'POST' && request.body.toString().includes(`newid=${newid}`),
    );

  it('should never send a clone whose client left while it waited, and free its place', async () => {
    stack = await startStack({ pve: { taskDurationMs: 600 }, proxy: { queueSize: 1 } });
    const first = sendClone(stack.proxyUrl, 'newid=201&full=1');
    await until(() => stack.pve.record.runningCloneTasks() === 1, 'the first task runs');

    const leaving = new AbortController();
    const gone = sendClone(stack.proxyUrl, 'newid=202&full=1', { signal: leaving.signal }).catch(
      (error: Error) => error,
    );
    await until(
      () => stack.proxy.proxy.middleware.lanes.list()[0].waitingCount === 1,
      'the second waits',
    );
    leaving.abort();
    assert.ok((await gone) instanceof Error);
    await until(
      () => stack.proxy.proxy.middleware.lanes.list()[0].waitingCount === 0,
      'it is withdrawn',
    );

    const third = await sendClone(stack.proxyUrl, 'newid=203&full=1');
    assert.equal(third.status, 200, 'the freed place was not given to the next clone');
    assert.equal((await first).status, 200);
    assert.equal(clonePostsFor(202).length, 0, 'a clone was sent for a client that had gone');
    assert.equal(stack.pve.guest(202), undefined);
  });

  it('should hold the slot for a clone in flight whose client left, until its task stopped', async () => {
    stack = await startStack({ pve: { taskDurationMs: 400 } });
    const leaving = new AbortController();
    const gone = sendClone(stack.proxyUrl, 'newid=201&full=1', { signal: leaving.signal }).catch(
      (error: Error) => error,
    );
    await until(() => stack.pve.record.runningCloneTasks() === 1, 'the first task runs');
    leaving.abort();
    await gone;

    const next = await sendClone(stack.proxyUrl, 'newid=202&full=1');
    assert.equal(next.status, 200);
    assert.equal(stack.pve.record.maxConcurrentCloneTasks, 1);
    const [abandoned, second] = stack.pve.record.cloneTasks;
    assert.equal(abandoned.newid, 201);
    assert.equal(abandoned.exitstatus, 'OK');
    assert.ok(abandoned.endedAt !== undefined && second.startedAt >= abandoned.endedAt);
  });
});
