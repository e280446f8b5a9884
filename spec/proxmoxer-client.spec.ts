import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { type Stack, startStack } from './support/stack';

const run = promisify(execFile);
const fixtures = join(__dirname, 'fixtures');

// Debian's python3-proxmoxer lives in dist-packages, which only Debian's own python sees.
const PYTHON = '/usr/bin/python3';

describe('a real client: proxmoxer over TLS', () => {
  let stack: Stack;

  beforeEach(async () => {
    stack = await startStack({
      pve: { taskDurationMs: 150 },
      proxy: {
        tls: {
          cert: readFileSync(join(fixtures, 'loopback-cert.pem'), 'utf8'),
          key: readFileSync(join(fixtures, 'loopback-key.pem'), 'utf8'),
          certFile: join(fixtures, 'loopback-cert.pem'),
          keyFile: join(fixtures, 'loopback-key.pem'),
        },
      },
    });
  });

  afterEach(() => stack.close());

  it('should log in with a password and run 4 concurrent clones one at a time', async () => {
    const port = new URL(stack.proxyUrl).port;
    const script = join(__dirname, 'clients', 'proxmoxer_clones.py');
    const { stdout } = await run(PYTHON, [script, port, '4'], { timeout: 30_000 });

    const { upids } = JSON.parse(stdout) as { upids: string[] };
    assert.equal(upids.length, 4);
    for (const upid of upids) assert.match(upid, /^UPID:pve1:[0-9A-F:]+vzclone:9000:root@pam:$/);
    assert.equal(new Set(upids).size, 4);
    assert.equal(stack.pve.record.maxConcurrentCloneTasks, 1);
    assert.deepEqual(
      stack.pve.record.cloneTasks.map((task) => task.exitstatus),
      ['OK', 'OK', 'OK', 'OK'],
    );
    const login = stack.pve.record.requests.find(
      (request) => request.url === '/api2/json/access/ticket',
    );
    assert.ok(login, 'proxmoxer logged in through the proxy');
  });
});
