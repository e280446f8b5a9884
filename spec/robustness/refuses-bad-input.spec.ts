import assert from 'node:assert/strict';
import { send, sendClone, TOKEN } from '../support/http-client';
import { sendRaw } from '../support/raw-http';
import { type Stack, startStack } from '../support/stack';

describe('odd clone input', () => {
  let stack: Stack;

  beforeEach(async () => {
    stack = await startStack({ pve: { taskDurationMs: 50 } });
  });

  afterEach(() => stack.close());

  const clonePosts = () => stack.pve.record.requests.filter((request) => request.method === 'POST');
  const clonePath = '/api2/json/nodes/pve1/lxc/9000/clone';

  it('should refuse a body over 512 KiB as PVE does and never queue it', async () => {
    const body = `newid=201&description=${'x'.repeat(600 * 1024)}`;
    const reply = await sendClone(stack.proxyUrl, body);
    assert.equal(reply.status, 501);
    assert.equal(reply.reason, 'for data too large');
    assert.equal(reply.headers['x-clone-proxy-error'], 'CLONE_PROXY_BODY_TOO_LARGE');
    assert.equal(clonePosts().length, 0);
  });

  it('should de-chunk a chunked clone body and send it with Content-Length', async () => {
    const body = 'newid=201&hostname=ct-201&full=1';
    const reply = await send(stack.proxyUrl, {
      method: 'POST',
      path: clonePath,
      headers: { Authorization: TOKEN, 'Transfer-Encoding': 'chunked' },
      body,
      chunked: true,
    });
    assert.equal(reply.status, 200, reply.body.toString());
    const [seen] = clonePosts();
    assert.equal(seen.headers['transfer-encoding'], undefined);
    assert.equal(seen.headers['content-length'], String(body.length));
    assert.equal(seen.body.toString(), body);
  });

  it('should forward form bytes unchanged, special characters and all', async () => {
    const body = 'newid=202&hostname=ct-202&full=1&description=a%26b%25c%2Bd%0A%C3%A4;pool=';
    const reply = await sendClone(stack.proxyUrl, body.replace(';pool=', ''));
    assert.equal(reply.status, 200, reply.body.toString());
    assert.equal(clonePosts()[0].body.toString(), body.replace(';pool=', ''));
    assert.equal(stack.pve.guest(202)?.description, 'a&b%c+d\nä');
  });

  it('should forward a JSON body unchanged', async () => {
    const body = JSON.stringify({
      newid: 203,
      hostname: 'ct-203',
      full: 1,
      description: 'a&b%c+d\nä',
    });
    const reply = await send(stack.proxyUrl, {
      method: 'POST',
      path: clonePath,
      headers: { Authorization: TOKEN, 'Content-Type': 'application/json' },
      body,
    });
    assert.equal(reply.status, 200, reply.body.toString());
    assert.ok(clonePosts()[0].body.equals(Buffer.from(body)));
    assert.equal(stack.pve.guest(203)?.description, 'a&b%c+d\nä');
  });

  it('should take a clone with no Content-Type and one with all parameters in the query', async () => {
    const bare = await send(stack.proxyUrl, {
      method: 'POST',
      path: clonePath,
      headers: { Authorization: TOKEN },
      body: 'newid=204&full=1',
    });
    const query = await send(stack.proxyUrl, {
      method: 'POST',
      path: `${clonePath}?newid=205&full=1`,
      headers: { Authorization: TOKEN },
    });
    assert.equal(bare.status, 200, bare.body.toString());
    assert.equal(query.status, 200, query.body.toString());
    assert.equal(clonePosts()[1].headers['content-length'], '0');
  });

  it('should refuse oversize headers itself and forward nothing', async () => {
    const reply = await sendClone(stack.proxyUrl, 'newid=206', {
      headers: { 'X-Big': 'y'.repeat(20_000) },
    });
    assert.equal(reply.status, 431);
    assert.equal(clonePosts().length, 0);
  });

  it('should refuse a header with a bare CR/LF and forward nothing', async () => {
    const raw = await sendRaw(
      stack.proxyUrl,
      `POST ${clonePath} HTTP/1.1\r\nHost: x\r\nAuthorization: ${TOKEN}\r\nX-Evil: a\rInjected: b\r\nContent-Length: 9\r\n\r\nnewid=207`,
    );
    assert.match(raw, /^HTTP\/1\.1 400 /);
    assert.equal(clonePosts().length, 0);
  });
});

describe('upstream answers that are not what PVE sends', () => {
  let stack: Stack;

  beforeEach(async () => {
    stack = await startStack({ pve: { taskDurationMs: 50 } });
  });

  afterEach(() => stack.close());

  const odd = [
    { name: 'a 200 without a UPID', body: '{"data":"done"}' },
    { name: 'a malformed UPID', body: '{"data":"UPID:pve1/../../x:1:2:3:vzclone:9000:root@pam:"}' },
    { name: 'an HTML page', body: '<html><body>proxy error</body></html>' },
    { name: 'an empty body', body: '' },
  ];

  for (const { name, body } of odd) {
    it(`should relay ${name} at once and poll nothing`, async () => {
      stack.pve.faults.answerClones(1, {
        status: 200,
        reason: 'OK',
        headers: { 'Content-Type': 'text/plain' },
        body,
      });
      const reply = await sendClone(stack.proxyUrl, 'newid=201&full=1');

      assert.equal(reply.status, 200);
      assert.equal(reply.body.toString(), body);
      assert.equal(reply.headers['x-clone-proxy-task'], 'not-started');
      assert.equal(stack.pve.record.statusPolls, 0);
    });
  }
});
