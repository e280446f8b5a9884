import assert from 'node:assert/strict';

import { sendClone } from './support/http-client';
import { type Stack, startStack } from './support/stack';

describe('clone path spellings PVE accepts', () => {
  let stack: Stack;

  beforeEach(async () => {
    stack = await startStack({ pve: { taskDurationMs: 120 } });
  });

  afterEach(() => stack.close());

  it('should serialize extjs, trailing slash, // and %63lone like the plain form', async () => {
    const paths = [
      '/api2/json/nodes/pve1/lxc/9000/clone',
      '/api2/extjs/nodes/pve1/lxc/9000/clone',
      '/api2/json/nodes/pve1/lxc/9000/clone/',
      '/api2/json//nodes//pve1/lxc/9000//clone',
      '/api2/json/nodes/pve1/lxc/9000/%63lone',
    ];
    const replies = await Promise.all(
      paths.map((path, index) =>
        sendClone(stack.proxyUrl, `newid=${201 + index}&full=1`, { path }),
      ),
    );

    for (const reply of replies) {
      assert.equal(reply.status, 200);
      assert.match(reply.json().data, /^UPID:pve1:/);
      assert.equal(reply.headers['x-clone-proxy-task'], 'stopped');
    }
    assert.equal(stack.pve.record.maxConcurrentCloneTasks, 1);
    assert.equal(stack.pve.record.cloneTasks.length, 5);
    const extjs = replies[1].json();
    assert.equal(extjs.success, 1);
  });

  it('should forward each spelling to PVE exactly as the client sent it', async () => {
    const path = '/api2/json//nodes//pve1/lxc/9000//%63lone?full=1';
    await sendClone(stack.proxyUrl, 'newid=201', { path });
    const seen = stack.pve.record.requests.filter((request) => request.method === 'POST');
    assert.deepEqual(
      seen.map((request) => request.url),
      [path],
    );
  });

  it('should pass QEMU clones and GET on the clone path straight through, unqueued', async () => {
    const qemu = '/api2/json/nodes/pve1/qemu/9001/clone';
    const replies = await Promise.all(
      [301, 302, 303].map((newid) => sendClone(stack.proxyUrl, `newid=${newid}`, { path: qemu })),
    );
    for (const reply of replies) {
      assert.equal(reply.status, 200);
      assert.equal(reply.headers['x-clone-proxy-task'], undefined);
    }
  });
});

describe('paths PVE refuses that a normalising proxy would turn into clones', () => {
  let stack: Stack;

  beforeEach(async () => {
    stack = await startStack({ pve: { taskDurationMs: 300 } });
  });

  afterEach(() => stack.close());

  it('should forward them byte for byte, so that PVE refuses them and starts no task', async () => {
    const paths = [
      '//api2/json/nodes/pve1/lxc/9000/clone',
      '/api2/json/nodes/pve1/lxc/9000/clone\\',
      '/api2/json/nodes/pve1/lxc/9000\\clone',
    ];
    for (const path of paths) {
      const direct = await sendClone(stack.pveUrl, 'newid=201&full=1', { path });
      const reply = await sendClone(stack.proxyUrl, 'newid=201&full=1', { path });
      assert.ok(direct.status >= 500, `${path}: PVE answered ${direct.status}`);
      assert.equal(reply.status, direct.status, `${path}: ${reply.status} ${reply.reason}`);
      assert.equal(reply.reason, direct.reason);
      assert.equal(reply.headers['x-clone-proxy-task'], undefined, `${path} was queued`);
    }

    const seen = stack.pve.record.requests.map((request) => request.url);
    assert.deepEqual(
      seen,
      paths.flatMap((path) => [path, path]),
    );
    assert.equal(stack.pve.record.cloneTasks.length, 0);
  });
});
