import assert from 'node:assert/strict';
import { format } from 'winston';

import { send } from '../support/http-client';
import { createLogCapture, type LogCapture } from '../support/log-capture';
import { type Stack, startStack } from '../support/stack';

/**
 * A logger that fails on one message, as a bug inside the proxy would: the clone path runs
 * outside Express in the server, so its last-resort answer is the listener's own.
 */
function createFailingLogger(failOn: string): LogCapture {
  const explode = format((info) => {
    if (info.message === failOn) throw new Error('logger exploded');
    return info;
  });
  return createLogCapture({ before: explode() });
}

describe('a failure inside the proxy', () => {
  let stack: Stack;
  let capture: LogCapture;

  beforeEach(async () => {
    capture = createFailingLogger('clone refused: no ticket or token');
    stack = await startStack({ logger: capture.logger });
  });

  afterEach(() => stack.close());

  it('should answer a clone with 500 in PVE’s envelope, log the path without its query, send nothing', async () => {
    const reply = await send(stack.proxyUrl, {
      method: 'POST',
      path: '/api2/json/nodes/pve1/lxc/9000/clone?newid=3001&secret=hunter2',
    });

    assert.equal(reply.status, 500);
    assert.equal(reply.headers['x-clone-proxy-error'], 'CLONE_PROXY_INTERNAL');
    assert.equal(reply.json().data, null);
    assert.match(reply.reason, /internal error/);
    const line = capture.lines().find((l) => l.message === 'request failed inside the proxy');
    assert.equal(line?.path, '/api2/json/nodes/pve1/lxc/9000/clone');
    assert.equal(line?.reason, 'logger exploded');
    assert.ok(!JSON.stringify(capture.lines()).includes('hunter2'));
    assert.equal(stack.pve.record.requests.length, 0);
  });
});
