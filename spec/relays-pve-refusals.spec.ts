import assert from 'node:assert/strict';

import { type Reply, send, sendClone } from './support/http-client';
import { type Stack, startStack } from './support/stack';

describe('clones that PVE refuses', () => {
  let stack: Stack;

  beforeEach(async () => {
    stack = await startStack({ pve: { taskDurationMs: 100 } });
  });

  afterEach(() => stack.close());

  const same = (direct: Reply, proxied: Reply) => {
    assert.equal(proxied.status, direct.status);
    assert.equal(proxied.reason, direct.reason);
    assert.equal(proxied.body.toString(), direct.body.toString());
    assert.equal(proxied.headers['content-type'], direct.headers['content-type']);
  };

  it('should relay a missing source unchanged', async () => {
    const direct = await sendClone(stack.pveUrl, 'newid=201', { vmid: 4242 });
    const proxied = await sendClone(stack.proxyUrl, 'newid=201', { vmid: 4242 });
    assert.equal(direct.status, 500);
    assert.equal(direct.reason, "Configuration file 'nodes/pve1/lxc/4242.conf' does not exist");
    same(direct, proxied);
    assert.equal(proxied.headers['x-clone-proxy-task'], 'not-started');
  });

  it('should relay a bad newid unchanged', async () => {
    const direct = await sendClone(stack.pveUrl, 'newid=0100');
    const proxied = await sendClone(stack.proxyUrl, 'newid=0100');
    assert.equal(direct.status, 400);
    assert.equal(direct.reason, 'Parameter verification failed.');
    same(direct, proxied);
  });

  it('should relay a missing credential unchanged', async () => {
    const clone = {
      method: 'POST',
      path: '/api2/json/nodes/pve1/lxc/9000/clone',
      body: 'newid=201',
    };
    const direct = await send(stack.pveUrl, clone);
    const proxied = await send(stack.proxyUrl, clone);
    assert.equal(direct.status, 401);
    assert.equal(direct.reason, 'No ticket');
    assert.equal(proxied.body.length, 0);
    same(direct, proxied);
  });

  it('should not hold up the next clone after a refusal', async () => {
    const [refused, next] = await Promise.all([
      sendClone(stack.proxyUrl, 'newid=201', { vmid: 4242 }),
      sendClone(stack.proxyUrl, 'newid=202&full=1'),
    ]);
    assert.equal(refused.status, 500);
    assert.equal(next.status, 200);
    assert.ok(Number(next.headers['x-clone-proxy-wait-ms']) < 1000);
  });
});
