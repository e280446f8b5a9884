import assert from 'node:assert/strict';
import { createServer } from 'node:net';

import { send, TOKEN } from '../support/http-client';
import { type Stack, startStack } from '../support/stack';

/** A loopback port nothing listens on: taken, then given back. */
async function findClosedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('/_clone-proxy/health', () => {
  let stack: Stack;

  afterEach(() => stack.close());

  const versionCalls = () =>
    stack.pve.record.requests.filter((request) => request.url === '/api2/json/version');

  it('should say PVE answers, asking with the caller’s own credentials', async () => {
    stack = await startStack();

    const reply = await send(stack.proxyUrl, {
      path: '/_clone-proxy/health',
      headers: { Authorization: TOKEN },
    });
    assert.equal(reply.status, 200);
    const health = reply.json();
    assert.equal(health.live, true);
    assert.equal(health.closing, false);
    assert.equal(health.target, stack.pveUrl);
    assert.equal(health.pve.answers, true);
    assert.equal(health.pve.status, 200);
    assert.equal(health.pve.reason, undefined);
    assert.ok(health.pve.ms >= 0 && health.pve.ms < 2000);

    assert.equal(versionCalls().length, 1);
    assert.equal(versionCalls()[0].headers.authorization, TOKEN);
  });

  it('should count a 401 as an answer and reuse it for a second look soon after', async () => {
    stack = await startStack();

    const first = (await send(stack.proxyUrl, { path: '/_clone-proxy/health' })).json();
    const second = (await send(stack.proxyUrl, { path: '/_clone-proxy/health' })).json();
    assert.equal(first.pve.answers, true);
    assert.equal(first.pve.status, 401);
    assert.deepEqual(second.pve, first.pve);
    assert.equal(versionCalls().length, 1, 'a second look within the cache time asked PVE again');
  });

  it('should say PVE does not answer when nothing listens at the target', async () => {
    const port = await findClosedPort();
    stack = await startStack({ proxy: { target: `http://127.0.0.1:${port}` } });

    const reply = await send(stack.proxyUrl, { path: '/_clone-proxy/health' });
    assert.equal(reply.status, 200, 'liveness is the proxy’s own, whatever PVE does');
    const health = reply.json();
    assert.equal(health.live, true);
    assert.equal(health.pve.answers, false);
    assert.equal(health.pve.status, undefined);
    assert.equal(health.pve.reason, `cannot reach PVE at http://127.0.0.1:${port} (ECONNREFUSED)`);
  });

  it('should answer 404 in JSON for an unknown admin path, without asking PVE', async () => {
    stack = await startStack();

    const reply = await send(stack.proxyUrl, { method: 'POST', path: '/_clone-proxy/reset' });
    assert.equal(reply.status, 404);
    assert.deepEqual(reply.json(), {
      error: 'no admin endpoint POST /_clone-proxy/reset',
      endpoints: [
        '/_clone-proxy/metrics',
        '/_clone-proxy/health',
        '/_clone-proxy/queue',
        '/_clone-proxy/status',
      ],
    });
    assert.equal(stack.pve.record.requests.length, 0);
  });
});
