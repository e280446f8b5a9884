import assert from 'node:assert/strict';
import { type Reply, send, sendClone, TOKEN } from '../support/http-client';
import { createLogCapture, type LogCapture } from '../support/log-capture';
import { type Stack, startStack } from '../support/stack';
import { until } from '../support/until';

const PASSWORD = 'secret';
const TOKEN_SECRET = '00000000-0000-0000-0000-000000000000';
const QUERY_SECRET = 'hunter2';

describe('logs', () => {
  let stack: Stack;
  let capture: LogCapture;

  beforeEach(async () => {
    capture = createLogCapture();
    stack = await startStack({
      pve: { taskDurationMs: 150 },
      proxy: { queueSize: 1 },
      logger: capture.logger,
    });
  });

  afterEach(() => stack.close());

  it('should hold no credential at any level and tie each clone’s lines to its requestId', async () => {
    // ticket login, passed through
    const login = await send(stack.proxyUrl, {
      method: 'POST',
      path: '/api2/json/access/ticket',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `username=root%40pam&password=${PASSWORD}`,
    });
    assert.equal(login.status, 200);
    const { ticket, CSRFPreventionToken: csrf } = login.json().data;
    const cookie = `PVEAuthCookie=${encodeURIComponent(ticket)}`;

    // a ticket clone in flight, a token clone waiting, a third refused: the queue is full
    const byTicket = sendClone(stack.proxyUrl, 'newid=701&full=1', {
      headers: { Authorization: '', Cookie: cookie, CSRFPreventionToken: csrf },
    });
    await until(() => stack.pve.record.runningCloneTasks() === 1, 'the ticket clone runs');
    const byToken = sendClone(stack.proxyUrl, 'newid=702&full=1');
    await until(
      () => stack.proxy.proxy.middleware.lanes.list()[0].waitingCount === 1,
      'the token clone waits',
    );
    const refused = await sendClone(stack.proxyUrl, 'newid=703&full=1');
    assert.equal(refused.status, 503);

    // passthrough, one with a secret in its query
    const passthrough: Reply[] = [
      await send(stack.proxyUrl, { path: '/api2/json/version', headers: { Cookie: cookie } }),
      await send(stack.proxyUrl, {
        path: `/api2/json/nodes?password=${QUERY_SECRET}`,
        headers: { Authorization: TOKEN },
      }),
    ];
    assert.deepEqual(
      passthrough.map((reply) => reply.status),
      [200, 200],
    );
    const clones = [await byTicket, await byToken, refused];
    assert.deepEqual(
      clones.map((reply) => reply.status),
      [200, 200, 503],
    );

    // no credential anywhere
    const output = capture.output();
    for (const secret of [
      PASSWORD,
      ticket,
      encodeURIComponent(ticket),
      csrf,
      TOKEN_SECRET,
      QUERY_SECRET,
    ]) {
      assert.ok(!output.includes(secret), `a log line holds a credential: ${secret}`);
    }
    assert.doesNotMatch(
      output,
      /PVEAuthCookie|PVEAPIToken|CSRFPreventionToken|authorization|cookie/i,
    );

    // every line about one clone carries its requestId
    const lines = capture.lines();
    const tasks = stack.pve.record.cloneTasks;
    assert.match(
      tasks[0].upid,
      /:vzclone:9000:root@pam:$/,
      'the first clone did not use the ticket',
    );
    assert.match(tasks[1].upid, /:vzclone:9000:root@pam!test:$/);
    for (const [index, reply] of clones.entries()) {
      const requestId = reply.headers['x-clone-proxy-request-id'];
      assert.match(String(requestId), /^[0-9a-f-]{36}$/, `clone ${index} has no request id header`);
      const newid = String(701 + index);
      const upid = tasks.find((task) => String(task.newid) === newid)?.upid;
      const about = lines.filter(
        (line) => line.newid === newid || (upid !== undefined && line.upid === upid),
      );
      assert.ok(about.length > 0, `no line about clone ${newid}`);
      for (const line of about) assert.equal(line.requestId, requestId, JSON.stringify(line));
    }

    // one info line per finished clone, with what an operator needs
    const finished = lines.filter((line) => line.message === 'clone finished');
    assert.equal(finished.length, 2);
    for (const line of finished) {
      assert.equal(line.level, 'info');
      for (const key of [
        'node',
        'vmid',
        'newid',
        'upid',
        'waitMs',
        'taskMs',
        'exitstatus',
        'queueDepth',
      ]) {
        assert.ok(
          line[key] !== undefined,
          `clone finished without ${key}: ${JSON.stringify(line)}`,
        );
      }
      assert.equal(line.exitstatus, 'OK');
    }

    // passthrough at debug: method, path without query, status, duration; nothing else
    const passed = lines.filter((line) => line.message === 'passthrough');
    assert.deepEqual(
      passed.map((line) => [line.level, line.method, line.path, line.status]),
      [
        ['debug', 'POST', '/api2/json/access/ticket', 200],
        ['debug', 'GET', '/api2/json/version', 200],
        ['debug', 'GET', '/api2/json/nodes', 200],
      ],
    );
    for (const line of passed) {
      assert.deepEqual(Object.keys(line).sort(), [
        'level',
        'message',
        'method',
        'ms',
        'path',
        'status',
        'timestamp',
      ]);
    }
  });
});
