import assert from 'node:assert/strict';

import { sendClone } from './support/http-client';
import { type Stack, startStack } from './support/stack';

describe('a full clone queue', () => {
  let stack: Stack;

  beforeEach(async () => {
    stack = await startStack({ pve: { taskDurationMs: 200 }, proxy: { queueSize: 2 } });
  });

  afterEach(() => stack.close());

  const clonePosts = () =>
    stack.pve.record.requests.filter(
      (request) => request.method === 'POST' && request.url.includes('/clone'),
    );

  it('should refuse exactly the clones beyond one in flight and two waiting', async () => {
    const replies = await Promise.all(
      Array.from({ length: 6 }, (_unused, index) =>
        sendClone(stack.proxyUrl, `newid=${201 + index}&full=1`),
      ),
    );

    const refused = replies.filter((reply) => reply.status === 503);
    assert.equal(refused.length, 3);
    assert.equal(replies.filter((reply) => reply.status === 200).length, 3);
    for (const reply of refused) {
      assert.match(reply.reason, /clone queue is full/);
      assert.match(String(reply.headers['retry-after']), /^\d+$/);
      assert.equal(reply.headers['x-clone-proxy-error'], 'CLONE_PROXY_QUEUE_FULL');
      const body = reply.json();
      assert.equal(body.data, null);
      assert.match(body.message, /clone queue is full.*clone not sent\n$/);
    }
    assert.equal(clonePosts().length, 3);
  });

  it('should refuse in the extjs envelope for GUI clones', async () => {
    const path = '/api2/extjs/nodes/pve1/lxc/9000/clone';
    const replies = await Promise.all(
      Array.from({ length: 5 }, (_unused, index) =>
        sendClone(stack.proxyUrl, `newid=${201 + index}`, { path }),
      ),
    );

    const refused = replies.filter((reply) => reply.json().success === 0);
    assert.equal(refused.length, 2);
    for (const reply of refused) {
      assert.equal(reply.status, 200);
      assert.equal(reply.json().status, 503);
      assert.match(String(reply.headers['retry-after']), /^\d+$/);
    }
    assert.equal(clonePosts().length, 3);
  });
});
