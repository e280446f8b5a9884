import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

import { serveParent } from '../support/bench-child';

/**
 * The calibration row of the passthrough benchmark: the least a Node.js reverse proxy does
 * (one keep-alive agent, the request piped up, the answer piped down, nothing checked), so
 * that the proxy's figures can be read against what Node itself costs on this machine.
 */
const target = new URL(process.env.BENCH_PIPE_TARGET ?? '');
const agent = new Agent({ keepAlive: true });

const server = createServer((req, res) => {
  const upstream = request(
    {
      host: target.hostname,
      port: target.port,
      method: req.method,
      path: req.url,
      headers: req.headers,
      agent,
    },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.on('error', () => {
    res.statusCode = 502;
    res.end();
  });
  req.pipe(upstream);
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  serveParent(
    { stop: () => new Promise((resolve) => server.close(resolve)) },
    { url: `http://127.0.0.1:${port}` },
  );
});
