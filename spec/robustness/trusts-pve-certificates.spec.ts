import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerConfig } from '../../lib/config/server-config';
import { createFakePve, type FakePve } from '../../lib/fake-pve';
import { send, sendClone, TOKEN } from '../support/http-client';
import { type Stack, startStack } from '../support/stack';

const fixtures = join(__dirname, '..', 'fixtures');
const cert = readFileSync(join(fixtures, 'loopback-cert.pem'), 'utf8');
const key = readFileSync(join(fixtures, 'loopback-key.pem'), 'utf8');
const fingerprint = new X509Certificate(cert).fingerprint256;

describe('TLS to PVE', () => {
  let pve: FakePve;
  let pveUrl: string;
  let stack: Stack | undefined;

  beforeEach(async () => {
    pve = createFakePve({ taskDurationMs: 50, authDelayMs: 0, tls: { cert, key } });
    pveUrl = await pve.listen(0, '127.0.0.1');
  });

  afterEach(async () => {
    await stack?.close();
    stack = undefined;
    await pve.close();
  });

  /** A proxy in front of the already running TLS double (the stack's own double stays unused). */
  const startProxy = async (trust: Partial<ServerConfig>) => {
    stack = await startStack({ proxy: { target: pveUrl, ...trust } });
    return stack.proxyUrl;
  };

  it('should refuse an untrusted certificate with a 502 that names the cause', async () => {
    const url = await startProxy({});
    const clone = await sendClone(url, 'newid=201');
    assert.equal(clone.status, 502);
    assert.equal(clone.headers['x-clone-proxy-error'], 'CLONE_PROXY_UPSTREAM_TLS');
    assert.match(
      clone.json().message,
      /certificate .* is not trusted \(DEPTH_ZERO_SELF_SIGNED_CERT\)/,
    );

    const passthrough = await send(url, {
      path: '/api2/json/version',
      headers: { Authorization: TOKEN },
    });
    assert.equal(passthrough.status, 502);
    assert.match(passthrough.json().message, /not trusted/);
    assert.equal(pve.record.requests.length, 0);
  });

  it('should trust the certificate from CLONE_PROXY_CA_FILE', async () => {
    const url = await startProxy({ ca: cert });
    assert.equal((await sendClone(url, 'newid=201&full=1')).status, 200);
    assert.equal(
      (await send(url, { path: '/api2/json/version', headers: { Authorization: TOKEN } })).status,
      200,
    );
  });

  it('should trust a pinned fingerprint and refuse another', async () => {
    const pinned = await startProxy({ tlsFingerprint: fingerprint });
    assert.equal((await sendClone(pinned, 'newid=201&full=1')).status, 200);
    assert.equal(
      (await send(pinned, { path: '/api2/json/version', headers: { Authorization: TOKEN } }))
        .status,
      200,
    );
    await stack?.close();

    const wrong = await startProxy({
      tlsFingerprint: fingerprint.replace(/^../, fingerprint.startsWith('00') ? '11' : '00'),
    });
    const clone = await sendClone(wrong, 'newid=202&full=1');
    assert.equal(clone.status, 502);
    assert.match(clone.json().message, /fingerprint .* does not match/);
    const passthrough = await send(wrong, {
      path: '/api2/json/version',
      headers: { Authorization: TOKEN },
    });
    assert.equal(passthrough.status, 502);
  });

  it('should skip the check when told to', async () => {
    const url = await startProxy({ skipTlsVerify: true });
    assert.equal((await sendClone(url, 'newid=201&full=1')).status, 200);
  });
});
