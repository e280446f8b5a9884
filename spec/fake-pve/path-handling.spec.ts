import assert from 'node:assert/strict';
import { connect } from 'node:net';

import { createFakePve, type FakePve } from '../../lib/fake-pve';
import { data, post, send, waitForTask } from './helpers';

describe('fake PVE: request line, path and transport rules', () => {
  let pve: FakePve;
  let url: string;

  beforeEach(async () => {
    pve = createFakePve({ authDelayMs: 0, taskDurationMs: 10 });
    url = await pve.listen();
  });

  afterEach(() => pve.close());

  it('should run the clone handler for every spelling PVE accepts', async () => {
    const spellings = [
      '/api2//json//nodes//pve1/lxc/9000/clone/',
      '/api2/json/nodes/pve%31/lxc/9000/%63lone',
      '/api2/json/nodes/localhost/lxc/9000/clone',
      '/api2/extjs/nodes/pve1/lxc/9000/clone',
      '/api2/htmljs/nodes/pve1/lxc/9000/clone',
      '/api2/json/nodes%2Fpve1%2Flxc%2F9000%2Fclone',
    ];

    for (const [i, path] of spellings.entries()) {
      const reply = await post(url, path, `newid=${301 + i}`);
      assert.equal(reply.status, 200, path);
      const upid = /UPID:[^"&]+/.exec(reply.body)?.[0] ?? '';
      assert.match(
        upid,
        /^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:vzclone:9000:root@pam!test:$/,
      );
      await waitForTask(url, upid);
    }
    assert.deepEqual(
      pve.record.cloneTasks.map((task) => task.newid),
      [301, 302, 303, 304, 305, 306],
    );
  });

  it('should answer 501 for case, dot segments and unknown paths, with the path in the reason', async () => {
    for (const path of [
      '/nodes/pve1/LXC/9000/clone',
      '/nodes/pve1/lxc/9000/./clone',
      '/nodes/pve1/lxc/9000/clonefoo',
    ]) {
      const reply = await post(url, `/api2/json${path}`, 'newid=301');
      assert.equal(reply.status, 501);
      assert.equal(reply.reason, `Method 'POST ${path}' not implemented`);
      assert.deepEqual(JSON.parse(reply.body), {
        data: null,
        message: `Method 'POST ${path}' not implemented`,
      });
      assert.equal(reply.headers.connection, 'close');
    }
  });

  it("should answer 'no such uri' when /api2 is not followed by a format", async () => {
    const reply = await send(url, 'GET', '/api2/JSON/version');

    assert.equal(reply.status, 501);
    assert.equal(reply.reason, 'no such uri');
    assert.equal(reply.body, 'no such uri');
  });

  it('should refuse a well-formed but unknown format after authentication', async () => {
    const reply = await send(url, 'GET', '/api2/xml/version');

    assert.equal(reply.status, 501);
    assert.equal(reply.reason, 'no formatter for uri /version, xml');
  });

  it('should refuse methods other than GET, POST, PUT and DELETE with an empty body', async () => {
    for (const method of ['PATCH', 'HEAD', 'OPTIONS']) {
      const reply = await send(url, method, '/api2/json/version');
      assert.equal(reply.status, 501);
      assert.equal(reply.reason, `method '${method}' not available`);
      assert.equal(reply.body, '');
    }
  });

  it('should refuse a chunked request body', async () => {
    const reply = await send(url, 'POST', '/api2/json/nodes/pve1/lxc/9000/clone', {
      headers: { 'Transfer-Encoding': 'chunked' },
      body: 'newid=301',
    });

    assert.equal(reply.status, 501);
    assert.equal(reply.reason, 'chunked transfer encoding not supported');
    assert.equal(reply.body, 'chunked transfer encoding not supported');
    assert.equal(pve.record.cloneTasks.length, 0);
  });

  it('should refuse a body over 512 KiB without reading it, and close the connection', async () => {
    const reply = await post(
      url,
      '/api2/json/nodes/pve1/lxc/100/config',
      `description=${'x'.repeat(600 * 1024)}`,
    );

    assert.equal(reply.status, 501);
    assert.equal(reply.reason, 'for data too large');
    assert.equal(reply.headers.connection, 'close');
    assert.equal(pve.record.requests.at(-1)?.body.length, 0);
  });

  it('should refuse a body on GET and DELETE', async () => {
    for (const method of ['GET', 'DELETE']) {
      const reply = await send(url, method, '/api2/json/version', { body: 'a=1' });
      assert.equal(reply.status, 501);
      assert.equal(reply.reason, `Unexpected content for method '${method}'`);
    }
  });

  it('should answer 506 for a body that is neither a form nor JSON', async () => {
    const reply = await post(url, '/api2/json/nodes/pve1/lxc/9000/clone', 'newid=301', {
      'Content-Type': 'text/plain; charset=utf-8',
    });

    assert.equal(reply.status, 506);
    assert.equal(reply.reason, "upload 'Content-Type 'text/plain; charset=utf-8' not implemented");
  });

  it('should send the PVE headers and close the connection after errors', async () => {
    const ok = await send(url, 'GET', '/api2/json/version');
    const failed = await send(url, 'GET', '/api2/json/nodes/pve1/lxc/999/config');

    assert.equal(ok.headers.server, 'pve-api-daemon/3.0');
    assert.equal(ok.headers['cache-control'], 'max-age=0');
    assert.equal(ok.headers.pragma, 'no-cache');
    assert.equal(ok.headers.expires, ok.headers.date);
    assert.equal(failed.status, 500);
    assert.equal(failed.reason, "Configuration file 'nodes/pve1/lxc/999.conf' does not exist");
    assert.equal(failed.headers.connection, 'close');
  });

  it('should keep a successful connection open and close it after an error', async () => {
    const token = 'PVEAPIToken=root@pam!test=00000000-0000-0000-0000-000000000000';
    const { port } = new URL(url);
    const socket = connect(Number(port), '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (chunk) => received.push(chunk));
    const closed = new Promise((resolve) => socket.on('close', resolve));

    socket.write(
      `GET /api2/json/version HTTP/1.1\r\nHost: x\r\nAuthorization: ${token}\r\n\r\n` +
        `GET /api2/json/nope HTTP/1.1\r\nHost: x\r\nAuthorization: ${token}\r\n\r\n`,
    );
    await closed;

    const text = Buffer.concat(received).toString();
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(text, /HTTP\/1\.1 501 Method 'GET \/nope' not implemented\r\n/);
  });

  it('should cut an absolute-form target down to its path', async () => {
    const reply = await send(url, 'GET', 'http://pve.example:8006/api2/json/version?_dc=1');

    assert.equal(reply.status, 200);
    assert.deepEqual(data(reply), { version: '9.1.1', release: '9.1', repoid: '42ab4d6f' });
  });
});
