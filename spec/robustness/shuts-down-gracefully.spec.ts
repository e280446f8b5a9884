import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';

import { createFakePve, type FakePve } from '../../lib/fake-pve';
import { sendClone } from '../support/http-client';
import { startServerProcess } from '../support/server-process';
import { type Stack, startStack } from '../support/stack';
import { until } from '../support/until';

describe('shutdown', () => {
  let stack: Stack;

  afterEach(() => stack.close());

  it('should answer waiting clones 503, finish the clone in flight, then stop', async () => {
    stack = await startStack({ pve: { taskDurationMs: 500 } });
    const inFlight = sendClone(stack.proxyUrl, 'newid=201&full=1');
    await until(() => stack.pve.record.runningCloneTasks() === 1, 'the first task runs');
    const waiting = [202, 203].map((newid) => sendClone(stack.proxyUrl, `newid=${newid}&full=1`));
    await until(() => stack.proxy.proxy.middleware.lanes.list()[0].waitingCount === 2, 'two wait');

    const closing = stack.proxy.close();
    for (const reply of await Promise.all(waiting)) {
      assert.equal(reply.status, 503);
      assert.equal(reply.headers['x-clone-proxy-error'], 'CLONE_PROXY_SHUTTING_DOWN');
      assert.match(String(reply.headers['retry-after']), /^\d+$/);
      assert.match(reply.json().message, /shutting down; clone not sent/);
    }
    const finished = await inFlight;
    await closing;

    assert.equal(finished.status, 200);
    assert.equal(finished.headers['x-clone-proxy-task'], 'stopped');
    assert.deepEqual(
      stack.pve.record.cloneTasks.map((task) => task.newid),
      [201],
    );
  });
});

describe('the server on SIGTERM', () => {
  let pve: FakePve;
  let child: ChildProcess | undefined;

  beforeEach(() => {
    pve = createFakePve({ taskDurationMs: 600, authDelayMs: 0 });
  });

  afterEach(async () => {
    child?.kill('SIGKILL');
    await pve.close();
  });

  const start = async (): Promise<{ url: string; exit: Promise<number | null> }> => {
    const target = await pve.listen(0, '127.0.0.1');
    const server = await startServerProcess({
      CLONE_PROXY_TARGET: target,
      CLONE_PROXY_POLL_INTERVAL: '20ms',
      CLONE_PROXY_LOG_LEVEL: 'info',
    });
    child = server.child;
    return server;
  };

  it('should let the clone in flight finish, answer it, and exit 0', async () => {
    const { url, exit } = await start();
    const clone = sendClone(url, 'newid=201&full=1');
    await until(() => pve.record.runningCloneTasks() === 1, 'the task runs');

    child?.kill('SIGTERM');
    const reply = await clone;
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['x-clone-proxy-task'], 'stopped');
    assert.equal(await exit, 0);
  });

  it('should exit at once on a second signal', async () => {
    const { url, exit } = await start();
    const clone = sendClone(url, 'newid=201&full=1').catch((error: Error) => error);
    await until(() => pve.record.runningCloneTasks() === 1, 'the task runs');

    child?.kill('SIGTERM');
    child?.kill('SIGINT');
    assert.equal(await exit, 1);
    assert.equal(pve.record.runningCloneTasks(), 1, 'it waited for the task');
    await clone;
  });
});
