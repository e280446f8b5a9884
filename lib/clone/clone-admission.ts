import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

import { ProxyError } from '../errors';
import { type CloneRoute, parseCloneRoute, toOriginForm } from '../pve/clone-route';
import { parsePveParams } from '../pve/params';
import { writeAnswer } from './answer-writer';
import type { CloneContext } from './clone-context';
import type { RefusalReason } from './clone-events';
import { CloneJob, type CloneRequest, type CloneWaiter, describeJob } from './clone-job';
import { createCloneKey } from './clone-key';
import type { CloneLane } from './clone-lane';
import type { CloneLanes } from './clone-lanes';
import { createForwardHeaders, pickCredentialHeaders } from './forward-headers';
import { createRefusalAnswer } from './refusal-answer';
import { readRequestBody } from './request-body';

type Next = (error?: unknown) => void;

/**
 * Middleware that takes the requests PVE would route to the LXC clone handler, reads each body
 * once and puts the clone in its lane; everything else goes on to `next` untouched.
 */
export function createCloneAdmission(lanes: CloneLanes, context: CloneContext) {
  return function admitClone(req: IncomingMessage, res: ServerResponse, next: Next): void {
    // Mounted under a prefix in a gateway, Express gives us the path below the prefix; that is
    // also what passthrough forwards, so both halves agree on what PVE will see.
    const target = toOriginForm(req.url ?? '/');
    const route = parseCloneRoute(req.method ?? '', target, context.config.match);
    if (!route) {
      next();
      return;
    }

    admit(req, res, route, target, lanes, context).catch(next);
  };
}

async function admit(
  req: IncomingMessage,
  res: ServerResponse,
  route: CloneRoute,
  target: string,
  lanes: CloneLanes,
  context: CloneContext,
): Promise<void> {
  const { logger } = context;
  const requestId = randomUUID();

  // refuse what could only hold the lane for nothing (checked before the body, as PVE does)
  if (!WATCHABLE_FORMATS.has(route.format)) {
    logger.warn('clone refused: format without a readable UPID', {
      requestId,
      format: route.format,
    });
    const message = `pve-clone-proxy: clones through /api2/${route.format} cannot be watched; use /api2/json or /api2/extjs; clone not sent`;
    return refuse(res, route, requestId, 'format-unsupported', message, context);
  }
  if (!hasCredentials(req)) {
    logger.info('clone refused: no ticket or token', {
      requestId,
      node: route.node,
      vmid: route.vmid,
    });
    return refuseUnauthenticated(res, requestId, context);
  }

  // read body
  const read = await readRequestBody(req);
  if (read.kind === 'aborted') {
    logger.debug('clone request aborted while its body was read', { requestId });
    return;
  }
  if (read.kind === 'too-large') {
    res.shouldKeepAlive = false;
    logger.warn('clone refused: body too large', { requestId, node: route.node, vmid: route.vmid });
    return refuse(res, route, requestId, 'body-too-large', 'for data too large', context);
  }
  if (lanes.closing) {
    logger.warn('clone refused: proxy shutting down', {
      requestId,
      node: route.node,
      vmid: route.vmid,
    });
    const message = 'pve-clone-proxy: shutting down; clone not sent';
    return refuse(res, route, requestId, 'shutting-down', message, context, 5);
  }

  // join an identical clone that is already queued or running
  const request = createCloneRequest(req, route, target, requestId, read.body);
  const waiter: CloneWaiter = { deliver: (answer) => writeAnswer(res, answer) };
  const twin = lanes.findActive(request.key);
  if (twin) {
    logger.info('identical clone joined one already queued or running', {
      requestId,
      joined: twin.job.requestId,
    });
    context.events.emit('joined', twin.job);
    twin.job.join(waiter);
    res.once('close', () => twin.job.leave(waiter) && withdraw(twin.job, twin.lane, context));
    return;
  }

  // enqueue (a per-node lane needs to know which node `localhost` is)
  if (context.config.lanes !== 'global' && route.node === 'localhost') {
    await context.localNode.resolve(request.credentials, context, requestId);
    if (res.closed) return;
  }
  const job = new CloneJob(request, waiter);
  const lane = lanes.laneFor(job);
  if (!lane.submit(job)) {
    logger.warn('clone refused: queue full', {
      ...describeJob(job),
      queueDepth: lane.waitingCount,
    });
    const message = `pve-clone-proxy: clone queue is full (${context.config.queueSize} waiting); clone not sent`;
    return refuse(
      res,
      route,
      requestId,
      'queue-full',
      message,
      context,
      lane.estimateWaitSeconds(),
    );
  }
  logger.debug('clone queued', {
    ...describeJob(job),
    queueDepth: lane.waitingCount,
    lane: lane.name,
  });
  context.events.emit('queued', job, lane);

  const queueTimeoutMs = context.config.queueTimeoutMs;
  const expiry =
    queueTimeoutMs > 0 ? setTimeout(() => expire(job, lane, context), queueTimeoutMs) : undefined;

  // a client that leaves before its turn is withdrawn; one whose clone is in flight is not
  res.once('close', () => {
    clearTimeout(expiry);
    if (!res.writableFinished && job.leave(waiter)) withdraw(job, lane, context);
  });
}

// The formats whose clone answer carries the UPID in a JSON envelope (Formatter/Standard.pm).
const WATCHABLE_FORMATS = new Set(['json', 'extjs', 'htmljs']);

/** A ticket (cookie, or the Authorization fallback) or an API token, as PVE looks for them. */
function hasCredentials(req: IncomingMessage): boolean {
  const authorization = String(req.headers.authorization ?? '');
  const cookie = String(req.headers.cookie ?? '');
  return /PVEAPIToken|PVEAuthCookie/.test(authorization) || cookie.includes('PVEAuthCookie=');
}

/**
 * PVE answers a call without credentials with 401 `No ticket` and an empty body, after a delay of
 * about 3 s (pve-manager PVE/HTTPServer.pm, auth_handler). Answering it here, at once and
 * without queueing, keeps anonymous clones from holding the lane for those seconds each.
 */
function refuseUnauthenticated(
  res: ServerResponse,
  requestId: string,
  context: CloneContext,
): void {
  context.events.emit('refused', 'no-credentials');
  res.shouldKeepAlive = false;
  writeAnswer(res, {
    status: 401,
    reason: 'No ticket',
    headers: [
      'X-Clone-Proxy-Request-Id',
      requestId,
      'X-Clone-Proxy-Error',
      'CLONE_PROXY_NO_CREDENTIALS',
    ],
    body: Buffer.alloc(0),
  });
}

function createCloneRequest(
  req: IncomingMessage,
  route: CloneRoute,
  target: string,
  requestId: string,
  body: Buffer,
): CloneRequest {
  const params = parsePveParams(route.query, body, req.headers['content-type']);
  const credentials = pickCredentialHeaders(req);
  return {
    requestId,
    route,
    target,
    headers: createForwardHeaders(req),
    body,
    params,
    credentials,
    key: createCloneKey({
      route,
      params,
      credentials,
      contentType: req.headers['content-type'],
      body,
    }),
  };
}

function withdraw(job: CloneJob, lane: CloneLane, context: CloneContext): void {
  if (!lane.withdraw(job)) return;
  context.logger.info('clone withdrawn: client left before its turn', describeJob(job));
  context.events.emit('withdrawn', job, 'client-gone');
}

function expire(job: CloneJob, lane: CloneLane, context: CloneContext): void {
  if (!lane.withdraw(job)) return;

  const waitedMs = context.config.queueTimeoutMs;
  context.logger.warn('clone withdrawn: waited too long in the queue', {
    ...describeJob(job),
    waitedMs,
  });
  context.events.emit('withdrawn', job, 'queue-timeout');
  context.events.emit('refused', 'queue-timeout');

  const error = new ProxyError(
    'CLONE_PROXY_QUEUE_TIMEOUT',
    `pve-clone-proxy: clone waited ${waitedMs} ms in the queue; clone not sent`,
  );
  job.answer(createRefusalAnswer(job.route, job.requestId, error, lane.estimateWaitSeconds()));
}

const REFUSAL_CODES: Record<RefusalReason, ProxyError['code']> = {
  'queue-full': 'CLONE_PROXY_QUEUE_FULL',
  'queue-timeout': 'CLONE_PROXY_QUEUE_TIMEOUT',
  'shutting-down': 'CLONE_PROXY_SHUTTING_DOWN',
  'body-too-large': 'CLONE_PROXY_BODY_TOO_LARGE',
  'lock-unavailable': 'CLONE_PROXY_LOCK_UNAVAILABLE',
  'no-credentials': 'CLONE_PROXY_NO_CREDENTIALS',
  'format-unsupported': 'CLONE_PROXY_FORMAT_UNSUPPORTED',
};

function refuse(
  res: ServerResponse,
  route: CloneRoute,
  requestId: string,
  reason: RefusalReason,
  message: string,
  context: CloneContext,
  retryAfterSeconds?: number,
): void {
  context.events.emit('refused', reason);
  const error = new ProxyError(REFUSAL_CODES[reason], message);
  writeAnswer(res, createRefusalAnswer(route, requestId, error, retryAfterSeconds));
}
