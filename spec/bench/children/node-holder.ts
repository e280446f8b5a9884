import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { serveParent } from '../support/bench-child';
import { readMemory } from '../support/memory';

/**
 * The calibration row of the queue benchmark: a bare Node.js HTTP server that reads each
 * request's body and keeps the response open, nothing else. What it costs per waiting
 * request is what any proxy built on Node's HTTP server costs at least.
 */
const held: { res: ServerResponse; body: Buffer }[] = [];

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => held.push({ res, body: Buffer.concat(chunks) }));
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  serveParent(
    {
      memory: readMemory,
      waiting: () => held.length,
      stop: () => {
        server.closeAllConnections();
        return new Promise((resolve) => server.close(resolve));
      },
    },
    { url: `http://127.0.0.1:${port}`, pid: process.pid },
  );
});
