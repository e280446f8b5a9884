import assert from 'node:assert/strict';

import { sendClone } from '../support/http-client';
import { type Stack, startStack } from '../support/stack';

describe('task polls that go wrong', () => {
  let stack: Stack;

  afterEach(() => stack.close());

  it('should treat 596 and other 5xx as transient and wait for the real stop', async () => {
    stack = await startStack({ pve: { taskDurationMs: 300 } });
    const reason =
      'Errors during TLS negotiation, request sending and header processing: Connection timed out';
    stack.pve.faults.failStatusPolls(3, 596, reason, '');

    const [first, second] = await Promise.all([
      sendClone(stack.proxyUrl, 'newid=201&full=1'),
      sendClone(stack.proxyUrl, 'newid=202&full=1'),
    ]);
    assert.equal(first.status, 200);
    assert.equal(first.headers['x-clone-proxy-task'], 'stopped');
    assert.equal(first.headers['x-clone-proxy-exitstatus'], 'OK');
    assert.equal(second.status, 200);
    assert.equal(stack.pve.record.maxConcurrentCloneTasks, 1);
  });

  it('should give up on a task it may not read, answer with the UPID and free the slot', async () => {
    stack = await startStack({ pve: { taskDurationMs: 100 } });
    const body = JSON.stringify({
      data: null,
      message: 'Permission check failed (/nodes/pve1, Sys.Audit)\n',
    });
    stack.pve.faults.failStatusPolls(
      5,
      403,
      'Permission check failed (/nodes/pve1, Sys.Audit)',
      body,
    );

    const first = await sendClone(stack.proxyUrl, 'newid=201&full=1');
    assert.equal(first.status, 200);
    assert.match(first.json().data, /^UPID:pve1:/);
    assert.equal(first.headers['x-clone-proxy-task'], 'unknown');

    const next = await sendClone(stack.proxyUrl, 'newid=202&full=1');
    assert.equal(next.status, 200);
    assert.equal(next.headers['x-clone-proxy-task'], 'stopped');
  });

  it('should give up on a task PVE says does not exist', async () => {
    stack = await startStack({ pve: { taskDurationMs: 100 } });
    const body = JSON.stringify({
      data: null,
      errors: { upid: 'no such task' },
      message: 'Parameter verification failed.\n',
    });
    stack.pve.faults.failStatusPolls(5, 400, 'Parameter verification failed.', body);

    const reply = await sendClone(stack.proxyUrl, 'newid=201&full=1');
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['x-clone-proxy-task'], 'unknown');
  });

  it('should answer at the poll timeout with the UPID and a running task, and free the slot', async () => {
    stack = await startStack({ pve: { taskDurationMs: 1500 }, proxy: { pollTimeoutMs: 250 } });
    const started = Date.now();
    const first = await sendClone(stack.proxyUrl, 'newid=201&full=1');
    const answeredMs = Date.now() - started;

    assert.equal(first.status, 200);
    assert.match(first.json().data, /^UPID:pve1:/);
    assert.equal(first.headers['x-clone-proxy-task'], 'running');
    assert.equal(first.headers['x-clone-proxy-exitstatus'], undefined);
    assert.ok(answeredMs < 1000, `answered after ${answeredMs} ms, not at the poll timeout`);

    // The slot was freed: the next clone reaches PVE at once, and PVE's own lock answers it.
    const second = await sendClone(stack.proxyUrl, 'newid=202&full=1');
    assert.equal(second.status, 500);
    assert.equal(second.reason, 'CT is locked (disk)');
  });
});
