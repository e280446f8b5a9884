import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';

import express from 'express';

import { createFakePve, type FakePve } from '../../lib/fake-pve';
import { createCloneProxyMiddleware } from '../../lib/middleware';
import { createCloneProxyAdmin } from '../../lib/observe/admin-router';
import { send, sendClone, TOKEN } from '../support/http-client';
import { type Stack, startStack } from '../support/stack';

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

describe('admin endpoints on their own listener', () => {
  let stack: Stack;

  beforeEach(async () => {
    stack = await startStack({ proxy: { adminListen: { host: '127.0.0.1', port: 0 } } });
  });

  afterEach(() => stack.close());

  it('should serve metrics there and pass the API port’s /_clone-proxy/ to PVE', async () => {
    const adminUrl = stack.proxy.adminUrl;
    assert.ok(adminUrl, 'no admin URL after listen');
    assert.notEqual(adminUrl, stack.proxyUrl);
    assert.equal((await sendClone(stack.proxyUrl, 'newid=501&full=1')).status, 200);

    const metrics = await send(adminUrl, { path: '/_clone-proxy/metrics' });
    assert.equal(metrics.status, 200);
    assert.match(
      metrics.body.toString(),
      /^pve_clone_proxy_clones_finished_total\{outcome="ok"\} 1$/m,
    );
    const page = await send(adminUrl, { path: '/' });
    assert.equal(page.status, 302);
    assert.equal(page.headers.location, '/_clone-proxy/status');

    const passed = await send(stack.proxyUrl, { path: '/_clone-proxy/metrics' });
    assert.equal(passed.status, 500, 'the API port answered the admin path itself');
    assert.match(passed.reason, /^no such file '\/_clone-proxy\/metrics'/);
    assert.doesNotMatch(passed.body.toString(), /pve_clone_proxy/);
    const seen = stack.pve.record.requests.map((request) => request.url);
    assert.ok(seen.includes('/_clone-proxy/metrics'), 'PVE never saw the admin path');
  });
});

describe('admin endpoints mounted by a gateway', () => {
  let pve: FakePve;
  const closers: (() => Promise<unknown>)[] = [];

  beforeEach(async () => {
    pve = createFakePve({ authDelayMs: 0, taskDurationMs: 50 });
    await pve.listen(0, '127.0.0.1');
  });

  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    await pve.close();
  });

  it('should serve them under the gateway prefix by default', async () => {
    const proxy = createCloneProxyMiddleware({ target: pve.url, pollInterval: 20 });
    const server = createServer(express().use('/pve', proxy));
    const url = await listen(server);
    closers.push(
      () => proxy.close(),
      () => new Promise((resolve) => server.close(resolve)),
    );

    const clone = await sendClone(url, 'newid=601&full=1', {
      path: '/pve/api2/json/nodes/pve1/lxc/9000/clone',
    });
    assert.equal(clone.status, 200);
    const queue = (await send(url, { path: '/pve/_clone-proxy/queue' })).json();
    assert.equal(queue.finished[0].newid, '601');
    assert.equal(queue.finished[0].outcome, 'ok');
  });

  it('should leave them to the gateway with admin: false', async () => {
    const proxy = createCloneProxyMiddleware({ target: pve.url, admin: false });
    const admin = createCloneProxyAdmin(proxy, { healthTimeoutMs: 2000, defaultMetrics: false });
    const server = createServer(express().use('/ops', admin).use(proxy));
    const url = await listen(server);
    closers.push(
      () => proxy.close(),
      () => admin.close(),
      () => new Promise((resolve) => server.close(resolve)),
    );

    assert.equal(proxy.admin, undefined);
    const health = await send(url, {
      path: '/ops/_clone-proxy/health',
      headers: { Authorization: TOKEN },
    });
    assert.equal(
      health.json().pve.status,
      200,
      'PVE answered the probe made with the caller’s token',
    );
    const metrics = await send(url, { path: '/ops/_clone-proxy/metrics' });
    assert.match(metrics.body.toString(), /^pve_clone_proxy_joined_total 0$/m);
    assert.doesNotMatch(metrics.body.toString(), /^process_cpu/m);
    assert.equal((await send(url, { path: '/_clone-proxy/queue' })).status, 500, 'went to PVE');
  });

  it('should give up on a PVE that accepts connections but never answers', async () => {
    const sockets = new Set<Socket>();
    const silent = createTcpServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const target = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
    const proxy = createCloneProxyMiddleware({ target, admin: false });
    const admin = createCloneProxyAdmin(proxy, { healthTimeoutMs: 150, defaultMetrics: false });
    const server = createServer(express().use(admin));
    const url = await listen(server);
    closers.push(
      () => proxy.close(),
      () => admin.close(),
      () => new Promise((resolve) => server.close(resolve)),
      async () => {
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => silent.close(resolve));
      },
    );

    const startedAt = Date.now();
    const health = (await send(url, { path: '/_clone-proxy/health' })).json();
    assert.ok(Date.now() - startedAt < 1000, 'the health answer waited for PVE too long');
    assert.equal(health.pve.answers, false);
    assert.equal(health.pve.reason, `PVE at ${target} did not answer within 150 ms`);
  });
});
