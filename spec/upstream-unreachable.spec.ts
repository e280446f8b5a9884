import assert from 'node:assert/strict';
import { createServer } from 'node:net';

import { loadServerConfig } from '../lib/config/server-config';
import { createSilentLogger } from '../lib/observe/logger';
import { type CloneProxyServer, createCloneProxyServer } from '../lib/server';
import { send, sendClone, TOKEN } from './support/http-client';

/** A loopback port that nothing listens on. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('PVE unreachable', () => {
  let proxy: CloneProxyServer;
  let url: string;

  beforeEach(async () => {
    proxy = createCloneProxyServer(
      {
        ...loadServerConfig({
          CLONE_PROXY_LISTEN: '127.0.0.1:0',
          CLONE_PROXY_TARGET: `http://127.0.0.1:${await closedPort()}`,
        }),
        pollIntervalMs: 20,
        requestTimeoutMs: 2000,
        shutdownTimeoutMs: 1000,
      },
      { logger: createSilentLogger() },
    );
    url = await proxy.listen();
  });

  afterEach(() => proxy.close());

  it('should answer a clone with 502 in the PVE envelope and not hold up the next', async () => {
    const [first, second] = await Promise.all([
      sendClone(url, 'newid=201'),
      sendClone(url, 'newid=202', { path: '/api2/extjs/nodes/pve1/lxc/9000/clone' }),
    ]);

    assert.equal(first.status, 502);
    assert.match(first.reason, /cannot reach PVE at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
    assert.equal(first.headers['x-clone-proxy-error'], 'CLONE_PROXY_UPSTREAM_UNREACHABLE');
    assert.match(first.json().message, /cannot reach PVE/);
    assert.equal(first.json().data, null);

    assert.equal(second.status, 200);
    assert.equal(second.json().success, 0);
    assert.equal(second.json().status, 502);
  });

  it('should answer passthrough with 502 in the PVE envelope', async () => {
    const reply = await send(url, {
      path: '/api2/json/version',
      headers: { Authorization: TOKEN },
    });
    assert.equal(reply.status, 502);
    assert.match(reply.json().message, /cannot reach PVE/);
  });
});
