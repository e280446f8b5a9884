import assert from 'node:assert/strict';
import { send, sendClone, TOKEN } from '../support/http-client';
import { sendRaw } from '../support/raw-http';
import { type Stack, startStack } from '../support/stack';

describe('hostile or odd input found by probing the proxy', () => {
  let stack: Stack;

  beforeEach(async () => {
    stack = await startStack({ pve: { taskDurationMs: 100 }, proxy: { requestTimeoutMs: 300 } });
  });

  afterEach(() => stack.close());

  const clonePosts = () => stack.pve.record.requests.filter((request) => request.method === 'POST');

  it('should refuse clones through formats whose answer has no readable UPID, never sending them', async () => {
    for (const format of ['html', 'png', 'spiceconfig']) {
      const reply = await sendClone(stack.proxyUrl, 'newid=201', {
        path: `/api2/${format}/nodes/pve1/lxc/9000/clone`,
      });
      assert.equal(reply.status, 501, format);
      assert.equal(reply.headers['x-clone-proxy-error'], 'CLONE_PROXY_FORMAT_UNSUPPORTED');
      assert.match(reply.json().message, /use \/api2\/json or \/api2\/extjs; clone not sent/);
    }
    assert.equal(clonePosts().length, 0);
  });

  it('should answer a clone without ticket or token at once, as PVE would, without queueing it', async () => {
    const reply = await send(stack.proxyUrl, {
      method: 'POST',
      path: '/api2/json/nodes/pve1/lxc/9000/clone',
      body: 'newid=201',
    });
    assert.equal(reply.status, 401);
    assert.equal(reply.reason, 'No ticket');
    assert.equal(reply.body.length, 0);
    assert.equal(reply.headers['x-clone-proxy-error'], 'CLONE_PROXY_NO_CREDENTIALS');
    assert.equal(stack.pve.record.requests.length, 0);
  });

  it("should treat pveproxy's 596 to a clone as a clone that may have started, and look for it", async () => {
    const reason =
      'Errors during TLS negotiation, request sending and header processing: Connection timed out';
    stack.pve.faults.answerClones(1, { status: 596, reason, body: '' });

    const reply = await sendClone(stack.proxyUrl, 'newid=201&full=1');
    assert.equal(reply.status, 502);
    assert.equal(reply.headers['x-clone-proxy-error'], 'CLONE_PROXY_UPSTREAM_RESET');
    assert.match(reply.json().message, /answered 596 .*no clone task was found on node pve1/);
    const searches = stack.pve.record.requests.filter((request) =>
      request.url.startsWith('/api2/json/nodes/pve1/tasks?'),
    );
    assert.ok(searches.length >= 1, 'the task list was not searched');
  });

  it('should relay a reason phrase with bytes a header cannot carry, cleaned, and answer the client', async () => {
    const body = JSON.stringify({ data: null, message: 'CT is locked (\u00e5)\n' });
    stack.pve.faults.answerClones(1, { status: 500, reason: 'CT is locked (\u00e5)', body });

    const reply = await sendClone(stack.proxyUrl, 'newid=201');
    assert.equal(reply.status, 500);
    assert.match(reply.reason, /^CT is locked \(\?+\)$/);
    assert.equal(reply.body.toString(), body);
  });

  it('should read an exitstatus that is not a string as unexpected, and still answer', async () => {
    const body = JSON.stringify({ data: { status: 'stopped', exitstatus: { toString: 1 } } });
    stack.pve.faults.failStatusPolls(1, 200, 'OK', body);

    const reply = await sendClone(stack.proxyUrl, 'newid=201&full=1');
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['x-clone-proxy-exitstatus'], 'unexpected status');
  });

  it('should not join a valid clone to an invalid twin with the same parameters', async () => {
    const path = '/api2/json/nodes/pve1/lxc/9000/clone?newid=201';
    const [broken, valid] = await Promise.all([
      send(stack.proxyUrl, {
        method: 'POST',
        path,
        headers: { Authorization: TOKEN, 'Content-Type': 'application/json' },
        body: '{not json',
      }),
      send(stack.proxyUrl, { method: 'POST', path, headers: { Authorization: TOKEN } }),
    ]);
    assert.notEqual(broken.status, 200);
    assert.equal(valid.status, 200, valid.body.toString());
    assert.equal(clonePosts().length, 2);
  });

  it('should answer a clone POST that asks for an upgrade instead of dropping it', async () => {
    const raw = await sendRaw(
      stack.proxyUrl,
      `POST /api2/json/nodes/pve1/lxc/9000/clone HTTP/1.1\r\nHost: x\r\nAuthorization: ${TOKEN}\r\n` +
        'Connection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: 9\r\n\r\nnewid=201',
    );
    assert.match(raw, /^HTTP\/1\.1 400 /);
    assert.equal(clonePosts().length, 0);
  });
});

describe('nextid reservations with odd input', () => {
  let stack: Stack;

  beforeEach(async () => {
    stack = await startStack({ pve: { taskDurationMs: 50 }, proxy: { nextid: 'reserve' } });
  });

  afterEach(() => stack.close());

  it("should leave a repeated or malformed vmid to PVE's own 400", async () => {
    for (const query of ['?vmid=201&vmid=202', '?vmid=abc', '?vmid=']) {
      const direct = await send(stack.pveUrl, {
        path: `/api2/json/cluster/nextid${query}`,
        headers: { Authorization: TOKEN },
      });
      const reply = await send(stack.proxyUrl, {
        path: `/api2/json/cluster/nextid${query}`,
        headers: { Authorization: TOKEN },
      });
      assert.equal(reply.status, direct.status, query);
      assert.equal(reply.body.toString(), direct.body.toString(), query);
    }
  });
});
