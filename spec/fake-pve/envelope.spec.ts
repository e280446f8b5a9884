import assert from 'node:assert/strict';

import { createFakePve, type FakePve } from '../../lib/fake-pve';
import { post, send } from './helpers';

const CLONE = '/nodes/pve1/lxc/9000/clone';

describe('fake PVE: response envelopes and status lines', () => {
  let pve: FakePve | undefined;

  afterEach(() => pve?.close());

  async function start(legacyEnvelope = false): Promise<string> {
    pve = createFakePve({ authDelayMs: 0, taskDurationMs: 300, legacyEnvelope });
    return pve.listen();
  }

  it('should wrap json results in data and json errors in data, message and errors', async () => {
    const url = await start();

    const ok = await post(url, `/api2/json${CLONE}`, 'newid=201');
    const locked = await post(url, `/api2/json${CLONE}`, 'newid=202');
    const invalid = await post(url, `/api2/json${CLONE}`, 'newid=099');

    assert.equal(ok.status, 200);
    assert.equal(ok.reason, 'OK');
    assert.equal(ok.headers['content-type'], 'application/json;charset=UTF-8');
    assert.match(ok.body, /^\{"data":"UPID:pve1:[^"]+:vzclone:9000:root@pam!test:"\}$/);
    assert.equal(locked.status, 500);
    assert.equal(locked.reason, 'CT is locked (disk)');
    assert.equal(locked.body, '{"data":null,"message":"CT is locked (disk)\\n"}');
    assert.equal(invalid.status, 400);
    assert.equal(invalid.reason, 'Parameter verification failed.');
    assert.deepEqual(JSON.parse(invalid.body), {
      data: null,
      message: 'Parameter verification failed.\n',
      errors: { newid: 'invalid format - value does not look like a valid VM ID\n' },
    });
  });

  it('should answer extjs errors with HTTP 200, success 0 and the real status', async () => {
    const url = await start();

    const ok = await post(url, `/api2/extjs${CLONE}`, 'newid=201');
    const locked = await post(url, `/api2/extjs${CLONE}`, 'newid=202');
    const invalid = await post(url, `/api2/extjs${CLONE}`, 'full=yes');

    assert.equal(ok.status, 200);
    assert.match(ok.body, /^\{"data":"UPID:pve1:[^"]+:","success":1\}$/);
    assert.equal(locked.status, 200);
    assert.equal(locked.reason, 'OK');
    assert.deepEqual(JSON.parse(locked.body), {
      data: null,
      success: 0,
      status: 500,
      message: 'CT is locked (disk)\n',
    });
    assert.deepEqual(JSON.parse(invalid.body), {
      data: null,
      success: 0,
      status: 400,
      message: 'Parameter verification failed.\n',
      errors: {
        newid: 'property is missing and it is not optional',
        full: "type check ('boolean') failed - got 'yes'",
      },
    });
  });

  it('should entity-encode htmljs answers as text/html', async () => {
    const url = await start();

    await post(url, `/api2/json${CLONE}`, 'newid=201');
    const locked = await post(url, `/api2/htmljs${CLONE}`, 'newid=202');

    assert.equal(locked.status, 200);
    assert.equal(locked.headers['content-type'], 'text/html;charset=UTF-8');
    assert.equal(
      locked.body,
      '{&quot;data&quot;:null,&quot;success&quot;:0,&quot;status&quot;:500,&quot;message&quot;:&quot;CT is locked (disk)\\n&quot;}',
    );
  });

  it('should leave out message with legacyEnvelope, keeping the reason phrase', async () => {
    const url = await start(true);

    await post(url, `/api2/json${CLONE}`, 'newid=201');
    const locked = await post(url, `/api2/json${CLONE}`, 'newid=202');
    const extjs = await post(url, `/api2/extjs${CLONE}`, 'newid=202');
    const chunked = await send(url, 'POST', `/api2/json${CLONE}`, {
      headers: { 'Transfer-Encoding': 'chunked' },
      body: 'newid=203',
    });

    assert.equal(locked.status, 500);
    assert.equal(locked.reason, 'CT is locked (disk)');
    assert.equal(locked.body, '{"data":null}');
    assert.equal(JSON.parse(extjs.body).message, 'CT is locked (disk)\n');
    assert.equal(chunked.reason, 'chunked transfer encoding not supported');
    assert.equal(chunked.body, '');
  });

  it('should keep non-ASCII values in parameter errors', async () => {
    const url = await start();

    const reply = await send(url, 'GET', '/api2/json/nodes/pve1/lxc/%C3%A4/config');

    assert.equal(reply.status, 400);
    assert.deepEqual(JSON.parse(reply.body).errors, {
      vmid: "type check ('integer') failed - got 'ä'",
    });
  });

  it('should answer html, png and spiceconfig json-shaped after running the handler', async () => {
    const url = await start();

    for (const format of ['html', 'png', 'spiceconfig']) {
      const reply = await send(url, 'GET', `/api2/${format}/version`);
      assert.equal(reply.status, 200, format);
      assert.equal(JSON.parse(reply.body).data.version, '9.1.1');
    }
  });
});
