import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { mergeEnvFile } from '../../lib/config/env-file';
import { loadServerConfig } from '../../lib/config/server-config';
import { ProxyError } from '../../lib/errors';

describe('loadServerConfig', () => {
  it('should fill every default', () => {
    const config = loadServerConfig({});
    assert.deepEqual(config.listen, { host: '127.0.0.1', port: 8081 });
    assert.equal(config.target, 'https://127.0.0.1:8006');
    assert.equal(config.pollIntervalMs, 2000);
    assert.equal(config.pollTimeoutMs, 15 * 60_000);
    assert.equal(config.requestTimeoutMs, 30_000);
    assert.equal(config.queueSize, 100);
    assert.equal(config.skipTlsVerify, false);
    assert.equal(config.tls, undefined);
    assert.equal(config.logLevel, 'info');
  });

  it('should read durations, IPv6 listen addresses and PVE_API_URL', () => {
    const config = loadServerConfig({
      CLONE_PROXY_LISTEN: '[::1]:9000',
      CLONE_PROXY_POLL_INTERVAL: '500ms',
      CLONE_PROXY_POLL_TIMEOUT: '1h',
      PVE_API_URL: 'https://pve1.example:8006',
    });
    assert.deepEqual(config.listen, { host: '::1', port: 9000 });
    assert.equal(config.pollIntervalMs, 500);
    assert.equal(config.pollTimeoutMs, 3_600_000);
    assert.equal(config.target, 'https://pve1.example:8006');
  });

  it('should count an empty variable as unset', () => {
    assert.equal(loadServerConfig({ CLONE_PROXY_POLL_INTERVAL: '' }).pollIntervalMs, 2000);
  });

  it('should name the variable, the value and an example when a value is bad', () => {
    const cases: [string, string][] = [
      ['CLONE_PROXY_POLL_INTERVAL', '2 seconds'],
      ['CLONE_PROXY_LISTEN', '8081'],
      ['CLONE_PROXY_QUEUE_SIZE', 'many'],
      ['CLONE_PROXY_SKIP_TLS_VERIFY', 'maybe'],
      ['CLONE_PROXY_TARGET', 'pve1:8006'],
    ];
    for (const [name, value] of cases) {
      assert.throws(
        () => loadServerConfig({ [name]: value }),
        (error: unknown) =>
          error instanceof ProxyError &&
          error.code === 'CLONE_PROXY_CONFIG_INVALID' &&
          error.message.includes(name) &&
          error.message.includes(JSON.stringify(value)) &&
          /for example/.test(error.message),
        name,
      );
    }
  });
});

describe('mergeEnvFile', () => {
  it('should read KEY="value" lines and let the real environment win', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clone-proxy-env-'));
    const file = join(dir, 'pve-clone-proxy');
    writeFileSync(file, '# comment\nCLONE_PROXY_QUEUE_SIZE="7"\nCLONE_PROXY_POLL_INTERVAL="1s"\n');

    const env = mergeEnvFile(file, { CLONE_PROXY_POLL_INTERVAL: '3s' });
    const config = loadServerConfig(env);
    assert.equal(config.queueSize, 7);
    assert.equal(config.pollIntervalMs, 3000);
  });
});
