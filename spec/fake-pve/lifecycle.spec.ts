import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createFakePve } from '../../lib/fake-pve';
import { post, send } from './helpers';

describe('fake PVE: listen, close and options', () => {
  it('should listen on ::1 and give the bracketed URL', async () => {
    const pve = createFakePve({ authDelayMs: 0 });
    try {
      const url = await pve.listen(0, '::1');

      assert.match(url, /^http:\/\/\[::1\]:\d+$/);
      assert.equal(pve.url, url);
      assert.equal((await send(url, 'GET', '/api2/json/version')).status, 200);
    } finally {
      await pve.close();
    }
  });

  it('should close while tasks and delayed 401 answers are pending', async () => {
    const pve = createFakePve({ authDelayMs: 60_000, taskDurationMs: 60_000 });
    const url = await pve.listen();

    await post(url, '/api2/json/nodes/pve1/lxc/9000/clone', 'newid=201');
    const unauthorized = send(url, 'GET', '/api2/json/version', { token: false }).catch(
      (err: Error) => err,
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    await pve.close();

    assert.ok((await unauthorized) instanceof Error);
    assert.equal(pve.record.runningCloneTasks(), 1);
  });

  it('should resolve close() on a double that never listened', async () => {
    await createFakePve().close();
  });

  it('should refuse bad options with the option, the value and an example', () => {
    assert.throws(
      () => createFakePve({ nodes: [] }),
      /option nodes is invalid \(\[\]\); for example \['pve1'\]/,
    );
    assert.throws(
      () => createFakePve({ guests: [{ vmid: 99 }] }),
      /option guests\[\]\.vmid is invalid \(99\)/,
    );
    assert.throws(() => createFakePve({ authDelayMs: -1 }), /option authDelayMs is invalid \(-1\)/);
    assert.throws(
      () => createFakePve({ guests: [{ vmid: 100, storage: 'ceph' }] }),
      /option guests\[\]\.storage is invalid \("ceph"\)/,
    );
  });

  it('should serve HTTPS with the given certificate', async function () {
    const dir = mkdtempSync(join(tmpdir(), 'fake-pve-tls-'));
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=127.0.0.1',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
        ],
        { stdio: 'ignore' },
      );
    } catch {
      rmSync(dir, { recursive: true, force: true });
      this.skip();
    }
    const pve = createFakePve({
      authDelayMs: 0,
      tls: { cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) },
    });
    rmSync(dir, { recursive: true, force: true });
    try {
      const url = await pve.listen();

      assert.match(url, /^https:\/\/127\.0\.0\.1:\d+$/);
      assert.equal((await send(url, 'GET', '/api2/json/version')).status, 200);
    } finally {
      await pve.close();
    }
  });
});
