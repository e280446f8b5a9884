import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

import { createAuth } from './auth';
import { createCluster, viewGuest } from './cluster';
import { createFaults } from './faults';
import { createRequestHandler } from './handle-request';
import { resolveOptions } from './options';
import { createRecorder } from './recorder';
import { createRouter } from './router';
import { createRoutes } from './routes';
import type { FakeState } from './state';
import { createStorageLocks } from './storage-locks';
import { createTaskRegistry } from './tasks';
import { createTimerSet } from './timers';
import type { FakePve, FakePveOptions } from './types';
import { createUpgradeHandler } from './websocket';

/**
 * Creates a fake Proxmox VE API server for tests: LXC and QEMU clones with PVE's locks and
 * errors, tasks, tickets and API tokens, PVE's path and parameter rules, and fault injection.
 *
 * @example
 * const pve = createFakePve({ taskDurationMs: 100, authDelayMs: 0 });
 * const url = await pve.listen();
 * // POST `${url}/api2/json/nodes/pve1/lxc/9000/clone` with
 * // `Authorization: PVEAPIToken=root@pam!test=00000000-0000-0000-0000-000000000000`
 * await pve.close();
 */
export function createFakePve(options?: FakePveOptions): FakePve {
  const resolved = resolveOptions(options);
  const timers = createTimerSet();
  const cluster = createCluster(resolved);
  const state: FakeState = {
    options: resolved,
    cluster,
    tasks: createTaskRegistry(),
    auth: createAuth(resolved),
    recorder: createRecorder(),
    faults: createFaults(cluster),
    timers,
    storageLocks: createStorageLocks(timers),
  };

  const onRequest = createRequestHandler(state, createRouter(createRoutes(state)));
  const server = resolved.tls
    ? createHttpsServer({ cert: resolved.tls.cert, key: resolved.tls.key }, onRequest)
    : createHttpServer(onRequest);
  const upgradedSockets = new Set<Duplex>();
  server.on('upgrade', createUpgradeHandler(state, onRequest, upgradedSockets));

  let url = '';

  return {
    listen(port = 0, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const { port: bound } = server.address() as AddressInfo;
          const shownHost = host.includes(':') ? `[${host}]` : host;
          url = `${resolved.tls ? 'https' : 'http'}://${shownHost}:${bound}`;
          resolve(url);
        });
      });
    },

    close() {
      timers.clearAll();
      for (const socket of upgradedSockets) socket.destroy();
      if (!server.listening) return Promise.resolve();

      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },

    get url() {
      return url;
    },
    record: state.recorder,
    faults: state.faults,
    guest(vmid) {
      const guest = cluster.guest(vmid);
      return guest && viewGuest(guest);
    },
  };
}
