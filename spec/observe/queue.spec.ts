import assert from 'node:assert/strict';

import { send, sendClone } from '../support/http-client';
import { type Stack, startStack } from '../support/stack';
import { until } from '../support/until';

describe('/_clone-proxy/queue', () => {
  let stack: Stack;

  beforeEach(async () => {
    stack = await startStack({ pve: { taskDurationMs: 300 } });
  });

  afterEach(() => stack.close());

  const readQueue = async () => {
    const reply = await send(stack.proxyUrl, { path: '/_clone-proxy/queue' });
    assert.equal(reply.status, 200);
    assert.match(String(reply.headers['content-type']), /^application\/json/);
    return reply.json();
  };

  it('should show the clone in flight with its UPID and the waiting ones, oldest first', async () => {
    const first = sendClone(stack.proxyUrl, 'newid=301&full=1');
    await until(() => stack.pve.record.runningCloneTasks() === 1, 'the first task runs');
    const waiting = [
      sendClone(stack.proxyUrl, 'newid=302&full=1'),
      sendClone(stack.proxyUrl, 'newid=303&full=1', { node: 'localhost' }),
    ];
    await until(
      () => stack.proxy.proxy.middleware.lanes.list()[0].waitingCount === 2,
      'two clones wait',
    );

    const queue = await readQueue();
    assert.equal(queue.closing, false);
    assert.equal(queue.lanes.length, 1);
    const [lane] = queue.lanes;
    assert.equal(lane.name, 'global');
    assert.equal(lane.queueDepth, 2);

    const upid = stack.pve.record.cloneTasks[0].upid;
    assert.equal(lane.inFlight.newid, '301');
    assert.equal(lane.inFlight.node, 'pve1');
    assert.equal(lane.inFlight.vmid, '9000');
    assert.equal(lane.inFlight.upid, upid);
    assert.match(lane.inFlight.requestId, /^[0-9a-f-]{36}$/);
    assert.ok(lane.inFlight.runningMs >= 0 && lane.inFlight.runningMs < 5000);
    assert.ok(Date.parse(lane.inFlight.since) <= Date.now());

    assert.deepEqual(
      lane.waiting.map((clone: { newid: string; node: string }) => [clone.newid, clone.node]),
      [
        ['302', 'pve1'],
        ['303', 'localhost'],
      ],
    );
    for (const clone of lane.waiting) assert.ok(clone.waitMs >= 0 && clone.waitMs < 5000);

    const replies = await Promise.all([first, ...waiting]);
    assert.deepEqual(
      replies.map((reply) => reply.status),
      [200, 200, 200],
    );

    const after = await readQueue();
    assert.equal(after.lanes[0].inFlight, null);
    assert.deepEqual(after.lanes[0].waiting, []);
    assert.deepEqual(
      after.finished.map((clone: { newid: string; outcome: string }) => [
        clone.newid,
        clone.outcome,
      ]),
      [
        ['303', 'ok'],
        ['302', 'ok'],
        ['301', 'ok'],
      ],
    );
    const last = after.finished[2];
    assert.equal(last.upid, upid);
    assert.equal(last.exitstatus, 'OK');
    assert.equal(last.requestId, replies[0].headers['x-clone-proxy-request-id']);
    assert.ok(last.taskMs >= 300, `taskMs ${last.taskMs}`);
    assert.ok(after.finished[0].waitMs >= 300, 'the last clone waited for the others');
  });

  it('should list a clone whose client left as withdrawn, and never show credentials', async () => {
    const first = sendClone(stack.proxyUrl, 'newid=311&full=1');
    await until(() => stack.pve.record.runningCloneTasks() === 1, 'the first task runs');
    const leaving = new AbortController();
    const gone = sendClone(stack.proxyUrl, 'newid=312', { signal: leaving.signal }).catch(
      (error: Error) => error,
    );
    await until(
      () => stack.proxy.proxy.middleware.lanes.list()[0].waitingCount === 1,
      'the second waits',
    );
    leaving.abort();
    await gone;
    await first;

    const reply = await send(stack.proxyUrl, { path: '/_clone-proxy/queue' });
    const queue = reply.json();
    assert.deepEqual(
      queue.finished.map((clone: { newid: string; outcome: string; reason?: string }) => [
        clone.newid,
        clone.outcome,
        clone.reason,
      ]),
      [
        ['311', 'ok', undefined],
        ['312', 'withdrawn', 'client-gone'],
      ],
    );
    assert.doesNotMatch(reply.body.toString(), /PVEAPIToken|00000000-0000|root@pam!test=/);
  });
});
