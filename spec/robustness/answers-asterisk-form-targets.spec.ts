import assert from 'node:assert/strict';

import { sendRaw } from '../support/raw-http';
import { type Stack, startStack } from '../support/stack';

/**
 * `OPTIONS * HTTP/1.1` is a valid request line whose path does not start with `/`. The server's
 * listener sends it to passthrough without Express, so passthrough must answer it rather than
 * hand it back, or the connection waits for an answer that never comes.
 */
describe('a request target in asterisk form', () => {
  let stack: Stack;

  beforeEach(async () => {
    stack = await startStack();
  });

  afterEach(() => stack.close());

  it("should reach PVE and relay PVE's answer", async () => {
    const ask = (method: string) =>
      sendRaw(stack.proxyUrl, `${method} * HTTP/1.1\r\nHost: pve\r\nConnection: close\r\n\r\n`);
    const options = await ask('OPTIONS');
    const get = await ask('GET');

    assert.match(options, /^HTTP\/1\.1 501 method 'OPTIONS' not available\r\n/);
    assert.match(get, /^HTTP\/1\.1 500 no such file '\/\*'\r\n/);
    assert.deepEqual(
      stack.pve.record.requests.map((request) => `${request.method} ${request.url}`),
      ['OPTIONS /*', 'GET /*'],
    );
  });
});
