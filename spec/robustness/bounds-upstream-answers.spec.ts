import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { loadServerConfig } from '../../lib/config/server-config';
import { createSilentLogger } from '../../lib/observe/logger';
import { type CloneProxyServer, createCloneProxyServer } from '../../lib/server';
import { MAX_UPSTREAM_BODY } from '../../lib/upstream/upstream-exchange';
import { sendClone } from '../support/http-client';

/** An upstream that is not PVE: it answers clones with whatever the test sets. */
describe('upstream answers that never end or never stop growing', () => {
  let upstream: Server;
  let proxy: CloneProxyServer;
  let url: string;
  let answerClone: (res: ServerResponse) => void;
  const timers = new Set<NodeJS.Timeout>();

  beforeEach(async () => {
    upstream = createServer((req, res) => {
      if (req.method === 'POST') return answerClone(res);
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const target = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;

    proxy = createCloneProxyServer(
      {
        ...loadServerConfig({ CLONE_PROXY_LISTEN: '127.0.0.1:0', CLONE_PROXY_TARGET: target }),
        requestTimeoutMs: 500,
        pollIntervalMs: 20,
        shutdownTimeoutMs: 1000,
      },
      { logger: createSilentLogger() },
    );
    url = await proxy.listen();
  });

  afterEach(async () => {
    for (const timer of timers) clearInterval(timer);
    await proxy.close();
    upstream.closeAllConnections();
    await new Promise((resolve) => upstream.close(resolve));
  });

  it('should stop reading an answer that drips in past the request timeout', async () => {
    answerClone = (res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const drip = setInterval(() => res.write(' '), 50);
      timers.add(drip);
    };

    const started = Date.now();
    const reply = await sendClone(url, 'newid=201');
    assert.equal(reply.status, 504);
    assert.equal(reply.headers['x-clone-proxy-error'], 'CLONE_PROXY_UPSTREAM_TIMEOUT');
    assert.ok(Date.now() - started < 3000, 'the lane was held by a dripping answer');
  });

  it('should stop reading an answer larger than any PVE answer', async () => {
    answerClone = (res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(Buffer.alloc(MAX_UPSTREAM_BODY + 1024, 0x20));
    };

    const reply = await sendClone(url, 'newid=201');
    assert.equal(reply.status, 502);
    assert.match(reply.json().message, /UND_ERR_RES_EXCEEDED_MAX_SIZE/);
  });
});
