import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import express, { type NextFunction, type Request, type Response } from 'express';

import { ProxyError } from '../../lib/errors';
import { createFakePve, type FakePve } from '../../lib/fake-pve';
import { type CloneProxyMiddleware, createCloneProxyMiddleware } from '../../lib/middleware';
import { send, sendClone, TOKEN } from '../support/http-client';
import { echoOverWebsocket } from '../support/websocket';

describe('the middleware inside an Express gateway', () => {
  let pve: FakePve;
  let pveMiddleware: CloneProxyMiddleware;
  let server: Server;
  let url: string;
  const ownUpgrades: string[] = [];

  before(async () => {
    pve = createFakePve({ taskDurationMs: 150, authDelayMs: 0 });
    const target = await pve.listen(0, '127.0.0.1');
    pveMiddleware = createCloneProxyMiddleware({ target, pollInterval: '20ms' });

    const gateway = express();
    gateway.get('/healthz', (_req, res) => {
      res.json({ gateway: 'ok' });
    });
    gateway.get('/boom', () => {
      throw new Error('gateway route failed');
    });
    gateway.use('/pve', pveMiddleware);
    gateway.use((error: Error, _req: Request, res: Response, _next: NextFunction) => {
      res.status(599).json({ handledBy: 'gateway', error: error.message });
    });

    server = gateway.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    server.on('upgrade', (req, socket, head) => {
      if (pveMiddleware.upgrade(req, socket, head)) return;
      ownUpgrades.push(req.url ?? '');
      socket.destroy();
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await pveMiddleware.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await pve.close();
  });

  it("should leave the gateway's own routes and error handler alone", async () => {
    const own = await send(url, { path: '/healthz' });
    assert.deepEqual(own.json(), { gateway: 'ok' });

    const failing = await send(url, { path: '/boom' });
    assert.equal(failing.status, 599);
    assert.deepEqual(failing.json(), { handledBy: 'gateway', error: 'gateway route failed' });
  });

  it('should serialize clones below its mount path and send PVE the path below it', async () => {
    const path = '/pve/api2/json/nodes/pve1/lxc/9000/clone';
    const replies = await Promise.all(
      [201, 202, 203].map((newid) => sendClone(url, `newid=${newid}&full=1`, { path })),
    );

    for (const reply of replies) assert.equal(reply.status, 200, reply.body.toString());
    assert.equal(pve.record.maxConcurrentCloneTasks, 1);
    const posts = pve.record.requests.filter((request) => request.method === 'POST');
    assert.deepEqual(
      posts.map((request) => request.url),
      Array(3).fill('/api2/json/nodes/pve1/lxc/9000/clone'),
    );
  });

  it('should pass other calls and websockets below its mount path to PVE', async () => {
    const version = await send(url, {
      path: '/pve/api2/json/version',
      headers: { Authorization: TOKEN },
    });
    assert.equal(version.status, 200);
    assert.equal(pve.record.requests[pve.record.requests.length - 1].url, '/api2/json/version');

    const socketPath = '/pve/api2/json/nodes/pve1/lxc/100/vncwebsocket?port=5900&vncticket=x';
    const { echoed } = await echoOverWebsocket(url, socketPath, 'through the gateway');
    assert.equal(echoed, 'through the gateway');
  });

  it('should hand upgrades outside its mount path back to the gateway', async () => {
    await echoOverWebsocket(url, '/elsewhere/socket', 'x').catch(() => undefined);
    assert.deepEqual(ownUpgrades, ['/elsewhere/socket']);
  });

  it('should verify its options when the factory is called', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ target: 'pve1:8006' }, 'target'],
      [{ target: 'https://127.0.0.1:8006', pollInterval: 'soon' }, 'pollInterval'],
      [{ target: 'https://127.0.0.1:8006', queueSize: -1 }, 'queueSize'],
      [{ target: 'https://127.0.0.1:8006', lanes: 'per-template' }, 'lanes'],
      [{ target: 'https://127.0.0.1:8006', respond: 'early' }, 'respond'],
      [{ target: 'https://127.0.0.1:8006', pollIntervall: '1s' }, 'unknown option pollIntervall'],
    ];
    for (const [options, name] of cases) {
      assert.throws(
        () => createCloneProxyMiddleware(options as never),
        (error: unknown) =>
          error instanceof ProxyError &&
          error.code === 'CLONE_PROXY_CONFIG_INVALID' &&
          error.message.includes(name),
        name,
      );
    }
  });
});
