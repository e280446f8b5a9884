import assert from 'node:assert/strict';

import { sendClone, TOKEN } from '../support/http-client';
import { type Stack, startStack } from '../support/stack';

describe('identical clone retries', () => {
  let stack: Stack;

  beforeEach(async () => {
    stack = await startStack({ pve: { taskDurationMs: 300 } });
  });

  afterEach(() => stack.close());

  const clonePosts = () => stack.pve.record.requests.filter((request) => request.method === 'POST');

  it('should send an identical clone once and give every client the same answer', async () => {
    const replies = await Promise.all([
      sendClone(stack.proxyUrl, 'newid=201&full=1'),
      sendClone(stack.proxyUrl, 'newid=201&full=1'),
      sendClone(stack.proxyUrl, 'full=1&newid=201'),
    ]);

    assert.equal(clonePosts().length, 1);
    const upid = replies[0].json().data;
    for (const reply of replies) {
      assert.equal(reply.status, 200);
      assert.equal(reply.json().data, upid);
    }
  });

  it('should count the query, which overrides the body as in PVE', async () => {
    const viaQuery = '/api2/json/nodes/pve1/lxc/9000/clone?newid=202';
    const replies = await Promise.all([
      sendClone(stack.proxyUrl, 'newid=201&full=1', { path: viaQuery }),
      sendClone(stack.proxyUrl, 'newid=202&full=1'),
      sendClone(stack.proxyUrl, 'newid=201&full=1'),
    ]);

    assert.equal(clonePosts().length, 2);
    assert.equal(replies[0].json().data, replies[1].json().data);
    assert.notEqual(replies[0].json().data, replies[2].json().data);
  });

  it('should not join clones sent with other credentials', async () => {
    const ticketLike = { Authorization: `${TOKEN.slice(0, -1)}1` };
    const replies = await Promise.all([
      sendClone(stack.proxyUrl, 'newid=201&full=1'),
      sendClone(stack.proxyUrl, 'newid=201&full=1', { headers: ticketLike }),
    ]);

    assert.equal(clonePosts().length, 2);
    assert.equal(replies[0].status, 200);
    assert.equal(replies[1].status, 401);
  });
});
