import assert from 'node:assert/strict';

import { describeServerConfig, describeVariables } from '../../lib/config/describe-config';
import { loadServerConfig } from '../../lib/config/server-config';
import { ProxyError } from '../../lib/errors';
import { createCloneProxyMiddleware } from '../../lib/middleware';
import { classifyFinish } from '../../lib/observe/clone-outcome';

const isConfigError = (name: string, value: string) => (error: unknown) =>
  error instanceof ProxyError &&
  error.code === 'CLONE_PROXY_CONFIG_INVALID' &&
  error.message.includes(name) &&
  error.message.includes(JSON.stringify(value)) &&
  /for example/.test(error.message);

describe('observability settings', () => {
  it('should leave log format and admin listener unset by default', () => {
    const config = loadServerConfig({});
    assert.equal(config.logFormat, undefined);
    assert.equal(config.adminListen, undefined);
    const described = describeServerConfig(config);
    assert.match(described, /^CLONE_PROXY_LOG_FORMAT=unset \(json, or pretty on a terminal\)$/m);
    assert.match(described, /^CLONE_PROXY_ADMIN_LISTEN=unset \(on the API listener\)$/m);
    assert.match(
      describeVariables(),
      /^ {2}CLONE_PROXY_ADMIN_LISTEN +\[unset\] \(admin endpoints/m,
    );
  });

  it('should read CLONE_PROXY_LOG_FORMAT and CLONE_PROXY_ADMIN_LISTEN', () => {
    const config = loadServerConfig({
      CLONE_PROXY_LOG_FORMAT: 'pretty',
      CLONE_PROXY_ADMIN_LISTEN: '[::1]:9081',
    });
    assert.equal(config.logFormat, 'pretty');
    assert.deepEqual(config.adminListen, { host: '::1', port: 9081 });
    const described = describeServerConfig(config);
    assert.match(described, /^CLONE_PROXY_LOG_FORMAT=pretty$/m);
    assert.match(described, /^CLONE_PROXY_ADMIN_LISTEN=\[::1\]:9081$/m);
  });

  it('should name the variable, the value and an example when one is bad', () => {
    assert.throws(
      () => loadServerConfig({ CLONE_PROXY_LOG_FORMAT: 'xml' }),
      isConfigError('CLONE_PROXY_LOG_FORMAT', 'xml'),
    );
    assert.throws(
      () => loadServerConfig({ CLONE_PROXY_ADMIN_LISTEN: '9081' }),
      isConfigError('CLONE_PROXY_ADMIN_LISTEN', '9081'),
    );
  });

  it('should refuse an admin option that is not a boolean', () => {
    const options = { target: 'https://127.0.0.1:8006', admin: 'no' as unknown as boolean };
    assert.throws(() => createCloneProxyMiddleware(options), isConfigError('admin', 'no'));
  });
});

describe('classifyFinish', () => {
  const cases: [Parameters<typeof classifyFinish>[0], string][] = [
    [{ outcome: 'stopped', exitstatus: 'OK', status: 200 }, 'ok'],
    [{ outcome: 'stopped', exitstatus: 'WARNINGS: 3', status: 200 }, 'warnings'],
    [{ outcome: 'stopped', exitstatus: 'clone failed: no space', status: 200 }, 'failed'],
    [{ outcome: 'stopped', exitstatus: 'unexpected status', status: 200 }, 'failed'],
    [{ outcome: 'running', status: 200 }, 'running'],
    [{ outcome: 'unknown', status: 200 }, 'unknown'],
    [{ outcome: 'not-started', status: 500 }, 'refused'],
    [{ outcome: 'not-started', status: 200 }, 'refused'],
    [{ outcome: 'not-started', status: 502 }, 'refused'],
    [
      { outcome: 'not-started', status: 502, error: 'CLONE_PROXY_UPSTREAM_UNREACHABLE' },
      'upstream-error',
    ],
    [
      { outcome: 'stopped', exitstatus: 'OK', status: 502, error: 'CLONE_PROXY_UPSTREAM_RESET' },
      'upstream-error',
    ],
    [
      { outcome: 'not-started', status: 504, error: 'CLONE_PROXY_UPSTREAM_TIMEOUT' },
      'upstream-error',
    ],
  ];

  for (const [finish, expected] of cases) {
    it(`should call ${JSON.stringify(finish)} ${expected}`, () => {
      assert.equal(classifyFinish(finish), expected);
    });
  }
});
