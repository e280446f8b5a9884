import assert from 'node:assert/strict';

import { sendClone } from '../support/http-client';
import { type Stack, startStack } from '../support/stack';
import { until } from '../support/until';

describe('CLONE_PROXY_RESPOND=accepted', () => {
  let stack: Stack;

  beforeEach(async () => {
    stack = await startStack({ pve: { taskDurationMs: 500 }, proxy: { respond: 'accepted' } });
  });

  afterEach(() => stack.close());

  it('should answer with the UPID at once while still holding the slot until the task stops', async () => {
    const timed = (body: string) => {
      const started = Date.now();
      return sendClone(stack.proxyUrl, body).then((reply) => ({ reply, ms: Date.now() - started }));
    };
    const replies = await Promise.all([timed('newid=201&full=1'), timed('newid=202&full=1')]);
    const [first, second] = replies.sort((a, b) => a.ms - b.ms);

    assert.equal(first.reply.status, 200);
    assert.equal(first.reply.headers['x-clone-proxy-task'], 'running');
    assert.ok(first.ms < 400, `the first answer took ${first.ms} ms`);

    assert.equal(second.reply.status, 200);
    assert.ok(second.ms >= 500, 'the second clone did not wait for the first task');
    assert.equal(stack.pve.record.maxConcurrentCloneTasks, 1);
  });
});

describe('CLONE_PROXY_QUEUE_TIMEOUT', () => {
  let stack: Stack;

  beforeEach(async () => {
    stack = await startStack({ pve: { taskDurationMs: 800 }, proxy: { queueTimeoutMs: 150 } });
  });

  afterEach(() => stack.close());

  it('should answer 503 with Retry-After to a clone that waited too long, and never send it', async () => {
    const running = sendClone(stack.proxyUrl, 'newid=201&full=1');
    await until(() => stack.pve.record.runningCloneTasks() === 1, 'the first task runs');
    const late = await sendClone(stack.proxyUrl, 'newid=202&full=1');
    const first = await running;

    assert.equal(first.status, 200);
    assert.equal(late.status, 503);
    assert.equal(late.headers['x-clone-proxy-error'], 'CLONE_PROXY_QUEUE_TIMEOUT');
    assert.match(String(late.headers['retry-after']), /^\d+$/);
    assert.match(late.json().message, /waited 150 ms in the queue; clone not sent/);
    const sent = stack.pve.record.requests.filter((request) =>
      request.body.toString().includes('newid=202'),
    );
    assert.equal(sent.length, 0);
  });
});
