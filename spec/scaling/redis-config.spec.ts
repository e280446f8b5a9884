import assert from 'node:assert/strict';

import { describeServerConfig, describeVariables } from '../../lib/config/describe-config';
import { verifyProxyOptions } from '../../lib/config/proxy-config';
import { loadServerConfig } from '../../lib/config/server-config';
import { isProxyError } from '../../lib/errors';

const TARGET = 'https://127.0.0.1:8006';

describe('Redis settings', () => {
  it('should leave Redis unset, fail closed and lease 15s by default', () => {
    const config = loadServerConfig({});
    assert.equal(config.redisUrl, undefined);
    assert.equal(config.redisFailure, 'closed');
    assert.equal(config.redisLeaseMs, 15_000);
    assert.match(
      describeServerConfig(config),
      /^CLONE_PROXY_REDIS_URL=unset \(this process only\)$/m,
    );
    assert.match(describeVariables(), /^ {2}CLONE_PROXY_REDIS_LEASE +\[15s\]$/m);
  });

  it('should read the variables, and never show the password', () => {
    const config = loadServerConfig({
      CLONE_PROXY_REDIS_URL: 'redis://proxy:s3cret@10.0.0.5:6379/2',
      CLONE_PROXY_REDIS_FAILURE: 'local',
      CLONE_PROXY_REDIS_LEASE: '5s',
    });
    assert.equal(config.redisUrl, 'redis://proxy:s3cret@10.0.0.5:6379/2');
    assert.equal(config.redisFailure, 'local');
    assert.equal(config.redisLeaseMs, 5000);

    const described = describeServerConfig(config);
    assert.match(described, /^CLONE_PROXY_REDIS_URL=redis:\/\/proxy:\*\*\*@10\.0\.0\.5:6379\/2$/m);
    assert.match(described, /^CLONE_PROXY_REDIS_FAILURE=local$/m);
    assert.match(described, /^CLONE_PROXY_REDIS_LEASE=5s$/m);
    assert.doesNotMatch(described, /s3cret/);
  });

  it('should name the variable and an example for a bad value, password masked', () => {
    assert.throws(
      () => loadServerConfig({ CLONE_PROXY_REDIS_URL: 'http://:s3cret@10.0.0.5:6379' }),
      (error: Error) =>
        isProxyError(error) &&
        error.code === 'CLONE_PROXY_CONFIG_INVALID' &&
        error.message.includes('CLONE_PROXY_REDIS_URL="http://:***@10.0.0.5:6379/"') &&
        error.message.includes('for example CLONE_PROXY_REDIS_URL=redis://127.0.0.1:6379') &&
        !error.message.includes('s3cret'),
    );
    assert.throws(
      () => loadServerConfig({ CLONE_PROXY_REDIS_FAILURE: 'open' }),
      /CLONE_PROXY_REDIS_FAILURE="open" is not valid; for example CLONE_PROXY_REDIS_FAILURE=local/,
    );
  });

  it('should verify the middleware options once, up front', () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [
        { redisUrl: 'rediss//nowhere' },
        /invalid redisUrl: "rediss\/\/nowhere"; for example 'redis:/,
      ],
      [{ redisFailure: 'open' }, /invalid redisFailure: "open"; for example 'closed'/],
      [{ redisLease: '10ms' }, /invalid redisLease: "10ms"/],
    ];
    for (const [options, message] of bad) {
      assert.throws(() => verifyProxyOptions({ target: TARGET, ...options }), message);
    }
    const config = verifyProxyOptions({
      target: TARGET,
      redisUrl: 'rediss://redis.example:6380',
      redisLease: 2000,
    });
    assert.equal(config.redisUrl, 'rediss://redis.example:6380');
    assert.equal(config.redisLeaseMs, 2000);
  });
});
