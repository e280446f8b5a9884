import assert from 'node:assert/strict';

import { send, sendClone, TOKEN } from '../support/http-client';
import { type Stack, startStack } from '../support/stack';

const nextid = (stack: Stack, query = '') =>
  send(stack.proxyUrl, {
    path: `/api2/json/cluster/nextid${query}`,
    headers: { Authorization: TOKEN },
  });

describe('CLONE_PROXY_NEXTID=reserve', () => {
  let stack: Stack;

  beforeEach(async () => {
    stack = await startStack({ pve: { taskDurationMs: 30 }, proxy: { nextid: 'reserve' } });
  });

  afterEach(() => stack.close());

  it('should give 10 concurrent callers 10 distinct ids, and a clone to each succeeds', async () => {
    const replies = await Promise.all(Array.from({ length: 10 }, () => nextid(stack)));
    const ids = replies.map((reply) => {
      assert.equal(reply.status, 200, reply.body.toString());
      return Number(reply.json().data);
    });
    assert.equal(new Set(ids).size, 10);

    const clones = await Promise.all(
      ids.map((id) => sendClone(stack.proxyUrl, `newid=${id}&full=1`)),
    );
    for (const clone of clones) assert.equal(clone.status, 200, clone.body.toString());
    assert.equal(stack.pve.record.cloneTasks.length, 10);
  });

  it("should answer ?vmid=N with PVE's 400 while N is held, and free it once its clone finished", async () => {
    const first = Number((await nextid(stack)).json().data);

    const held = await nextid(stack, `?vmid=${first}`);
    assert.equal(held.status, 400);
    assert.equal(held.reason, 'Parameter verification failed.');
    assert.deepEqual(held.json().errors, { vmid: `VM ${first} already exists` });

    await sendClone(stack.proxyUrl, `newid=${first}&full=1`);
    const afterClone = await nextid(stack, `?vmid=${first}`);
    assert.equal(afterClone.status, 400, 'the guest exists now, so PVE itself refuses');
    const fresh = await nextid(stack);
    assert.notEqual(Number(fresh.json().data), first);
  });

  it('should pass nextid through untouched by default', async () => {
    await stack.close();
    stack = await startStack({ pve: { taskDurationMs: 30 } });
    const replies = await Promise.all([nextid(stack), nextid(stack)]);
    assert.equal(replies[0].json().data, replies[1].json().data, 'PVE itself reserves nothing');
  });
});
