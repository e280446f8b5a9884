import { Agent as HttpAgent, type IncomingMessage, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

import {
  createProxyMiddleware,
  debugProxyErrorsPlugin,
  proxyEventsPlugin,
  type RequestHandler,
} from 'http-proxy-middleware';

import { writeAnswer } from './clone/answer-writer';
import type { ProxyConfig } from './config/proxy-config';
import type { Logger } from './observe/logger';
import { parseApiFormat } from './pve/api-format';
import { toOriginForm } from './pve/clone-route';
import { createErrorAnswer } from './pve/envelope';
import { createTlsOptions, verifyPinnedCertificate } from './upstream/tls-trust';
import { describeUpstreamFailure } from './upstream/upstream-failure';

/**
 * Everything that is not a clone: http-proxy-middleware set up once, with a keep-alive agent,
 * websockets, and no body parser, so bodies stream to PVE byte for byte.
 */
export function createPassthrough(
  config: Readonly<ProxyConfig>,
  logger: Logger,
  agent: HttpAgent,
): RequestHandler {
  const tls = createTlsOptions(config);

  return createProxyMiddleware<IncomingMessage, ServerResponse>({
    target: config.target,
    changeOrigin: true,
    ws: true,
    xfwd: true,
    secure: tls.rejectUnauthorized,
    agent,
    // Per request, the default logger plugin parses a URL and formats a line for a logger
    // that is off; the other defaults (error guards, the `on` handlers) stay.
    ejectPlugins: true,
    plugins: [debugProxyErrorsPlugin, proxyEventsPlugin],
    // By default a target whose path does not start with `/` (`OPTIONS *`) is declined with
    // `next()`, which the server's listener leaves unanswered: PVE answers those too.
    pathFilter: () => true,
    on: {
      // http-proxy would normalise the path (`\` to `/`, runs of `/` merged) and so could turn a
      // path that PVE refuses into a clone that never passed the queue: send it as received.
      proxyReq(proxyReq, req) {
        proxyReq.path = toOriginForm(req.url ?? '/');
      },
      proxyReqWs(proxyReq, req) {
        proxyReq.path = toOriginForm(req.url ?? '/');
      },
      error(error, req, res) {
        const failure = describeUpstreamFailure(error, config.target);
        logger.warn('passthrough failed', {
          method: req.method,
          code: failure.code,
          reason: failure.message,
        });

        if (!isServerResponse(res)) return void (res as Socket).destroy();
        const format = parseApiFormat(req.url ?? '/');
        const answer = createErrorAnswer(
          format,
          failure.status,
          `pve-clone-proxy: ${failure.message}`,
          {
            'X-Clone-Proxy-Error': failure.code,
          },
        );
        if (!writeAnswer(res, answer)) res.destroy();
      },
    },
  });
}

function isServerResponse(res: unknown): res is ServerResponse {
  return typeof (res as ServerResponse).writeHead === 'function';
}

/** The keep-alive agent for passthrough, with the same certificate trust as our own requests. */
export function createPassthroughAgent(config: Readonly<ProxyConfig>): HttpAgent {
  if (config.target.startsWith('http:')) return new HttpAgent({ keepAlive: true });

  const agent = new HttpsAgent({ keepAlive: true, ...createTlsOptions(config) });
  const fingerprint = config.tlsFingerprint;
  if (fingerprint === undefined) return agent;

  // A pinned certificate is checked before the socket is handed to a request: the agent waits
  // for the callback, so no request byte (nor credential) is written to an unverified peer.
  const createConnection = agent.createConnection.bind(agent);
  agent.createConnection = ((
    options: object,
    callback: (error: Error | null, socket?: Socket) => void,
  ) => {
    const socket = createConnection(options) as TLSSocket;
    socket.once('error', (error) => callback(error));
    socket.once('secureConnect', () => {
      try {
        verifyPinnedCertificate(socket, fingerprint);
        callback(null, socket);
      } catch (mismatch) {
        socket.destroy();
        callback(mismatch as Error);
      }
    });
    return undefined;
  }) as typeof agent.createConnection;
  return agent;
}
