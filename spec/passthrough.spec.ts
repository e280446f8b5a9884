import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

import { send, sendClone, TOKEN } from './support/http-client';
import { type Stack, startStack } from './support/stack';
import { echoOverWebsocket } from './support/websocket';

describe('everything that is not a clone', () => {
  let stack: Stack;

  beforeEach(async () => {
    stack = await startStack({ pve: { taskDurationMs: 1500 } });
  });

  afterEach(() => stack.close());

  const lastRequest = () => stack.pve.record.requests[stack.pve.record.requests.length - 1];

  it('should pass a GET with its full path and query', async () => {
    const reply = await send(stack.proxyUrl, {
      path: '/api2/json/version?_dc=123',
      headers: { Authorization: TOKEN },
    });
    assert.equal(reply.status, 200);
    assert.equal(reply.json().data.release !== undefined, true);
    assert.equal(lastRequest().url, '/api2/json/version?_dc=123');
    assert.equal(lastRequest().headers.authorization, TOKEN);
  });

  it('should stream a 200 KiB form PUT byte for byte', async () => {
    const description = encodeURIComponent('a&b%c+d\nä '.repeat(10_000)).slice(0, 200 * 1024);
    const body = `description=${description.replace(/%[0-9A-F]?$/, '')}`;
    const reply = await send(stack.proxyUrl, {
      method: 'PUT',
      path: '/api2/json/nodes/pve1/lxc/100/config',
      headers: { Authorization: TOKEN, 'Content-Type': 'application/x-www-form-urlencoded' },
      body,
    });
    assert.equal(reply.status, 200, reply.reason);
    assert.ok(lastRequest().body.equals(Buffer.from(body)));
    assert.equal(lastRequest().headers['transfer-encoding'], undefined);
  });

  it('should keep PVE reason phrases on passthrough errors', async () => {
    const reply = await send(stack.proxyUrl, {
      path: '/api2/json/nodes/pve1/lxc/4242/config',
      headers: { Authorization: TOKEN },
    });
    assert.equal(reply.status, 500);
    assert.equal(reply.reason, "Configuration file 'nodes/pve1/lxc/4242.conf' does not exist");
  });

  it('should answer a GET while a clone task runs', async () => {
    const clone = sendClone(stack.proxyUrl, 'newid=201&full=1');
    for (let tries = 0; tries < 100 && stack.pve.record.runningCloneTasks() === 0; tries += 1) {
      await sleep(10);
    }
    assert.equal(stack.pve.record.runningCloneTasks(), 1);

    const reply = await send(stack.proxyUrl, {
      path: '/api2/json/version',
      headers: { Authorization: TOKEN },
    });
    assert.equal(reply.status, 200);
    assert.equal(stack.pve.record.runningCloneTasks(), 1, 'the GET had to wait for the clone');
    assert.equal((await clone).status, 200);
  });

  it('should tunnel a websocket and echo', async () => {
    const path = '/api2/json/nodes/pve1/lxc/100/vncwebsocket?port=5900&vncticket=x';
    const { echoed, status } = await echoOverWebsocket(stack.proxyUrl, path, 'hello pve');
    assert.equal(status, 101);
    assert.equal(echoed, 'hello pve');
  });

  it('should tunnel a websocket when Connection also says keep-alive', async () => {
    const path = '/api2/json/nodes/pve1/lxc/100/vncwebsocket?port=5900&vncticket=x';
    const { echoed } = await echoOverWebsocket(stack.proxyUrl, path, 'again', {
      Connection: 'keep-alive, Upgrade',
    });
    assert.equal(echoed, 'again');
  });
});
