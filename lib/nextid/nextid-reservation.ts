import type { IncomingMessage, ServerResponse } from 'node:http';

import { queue } from 'async';

import { writeAnswer } from '../clone/answer-writer';
import type { CloneContext } from '../clone/clone-context';
import type { CloneLanes } from '../clone/clone-lanes';
import { pickCredentialHeaders } from '../clone/forward-headers';
import { ERROR_STATUS, isProxyError } from '../errors';
import { type PveAnswer, readEnvelopeData } from '../pve/answer';
import { splitApiPath } from '../pve/clone-route';
import { createDataAnswer, createErrorAnswer } from '../pve/envelope';
import { parsePveParams, readParam } from '../pve/params';
import { getFromPve } from '../upstream/pve-get';
import { describeUpstreamFailure } from '../upstream/upstream-failure';
import { type NextidHoldStore, NextidHolds } from './nextid-holds';

type Next = (error?: unknown) => void;

// Ids PVE reports taken are probed one by one; this bounds a run of them.
const MAX_PROBES = 1000;
// pve-common JSONSchema, pve-vmid: 3 to 9 digits.
const MAX_VMID = 1_000_000_000;
// Callers served one at a time wait in line; a longer line is refused rather than grown.
const MAX_WAITING = 1000;

/** No `vmid`, or exactly one that looks like a VMID; anything else is PVE's to refuse. */
function isPlainVmidQuery(query: string): boolean {
  const vmid = parsePveParams(query, Buffer.alloc(0)).vmid;
  return vmid === undefined || (typeof vmid === 'string' && /^[1-9][0-9]{2,8}$/.test(vmid));
}

function hasCredentials(req: IncomingMessage): boolean {
  return pickCredentialHeaders(req).length > 0;
}

/**
 * With CLONE_PROXY_NEXTID=reserve: answer `GET /cluster/nextid` with the lowest id PVE reports
 * free that this proxy has neither handed out within the hold time nor sees in a queued or
 * running clone. Calls are answered one at a time, so concurrent callers get distinct ids.
 */
export function createNextidReservation(
  lanes: CloneLanes,
  context: CloneContext,
  holds: NextidHoldStore = new NextidHolds(context.config.nextidHoldMs),
) {
  context.events.on('finished', ({ job }) => {
    const newid = Number(readParam(job.request.params, 'newid'));
    if (Number.isInteger(newid)) holds.release(newid).catch(() => {});
  });

  const taken = async (vmid: number) => isQueuedNewid(lanes, vmid) || (await holds.isHeld(vmid));
  const reservations = queue<
    { req: IncomingMessage; format: string; query: string },
    PveAnswer,
    Error
  >(async ({ req, format, query }) => {
    // A caller that left while waiting gets no id, and holds none.
    if (req.socket.destroyed) return createErrorAnswer(format, 499, 'client gone');
    return reserve(req, format, query, taken, holds, lanes, context);
  }, 1);

  return function reserveNextid(req: IncomingMessage, res: ServerResponse, next: Next): void {
    const api = req.method === 'GET' ? splitApiPath(req.url ?? '/') : undefined;
    // Calls we cannot serve better than PVE go to PVE as they are: other paths, a `vmid` that
    // is repeated or malformed (PVE's 400), no credentials (PVE's 401).
    if (
      api?.segments.join('/') !== 'cluster/nextid' ||
      !isPlainVmidQuery(api.query) ||
      !hasCredentials(req)
    ) {
      next();
      return;
    }
    if (reservations.length() >= MAX_WAITING) {
      const headers = { 'X-Clone-Proxy-Error': 'CLONE_PROXY_QUEUE_FULL', 'Retry-After': '1' };
      writeAnswer(
        res,
        createErrorAnswer(
          api.format,
          503,
          'pve-clone-proxy: too many nextid calls waiting',
          headers,
        ),
      );
      return;
    }

    reservations
      .pushAsync<PveAnswer>({ req, format: api.format, query: api.query })
      .then((answer) => writeAnswer(res, answer))
      .catch((error: unknown) => {
        if (!isProxyError(error)) return next(error);
        // A shared hold store out of reach (CLONE_PROXY_REDIS_FAILURE=closed): try again later.
        const headers: Record<string, string> = { 'X-Clone-Proxy-Error': error.code };
        if (ERROR_STATUS[error.code].retryAfter) headers['Retry-After'] = '5';
        writeAnswer(
          res,
          createErrorAnswer(api.format, error.status, `pve-clone-proxy: ${error.message}`, headers),
        );
      });
  };
}

async function reserve(
  req: IncomingMessage,
  format: string,
  query: string,
  taken: (vmid: number) => Promise<boolean>,
  holds: NextidHoldStore,
  lanes: CloneLanes,
  context: CloneContext,
): Promise<PveAnswer> {
  const credentials = pickCredentialHeaders(req);
  const asked = readParam(parsePveParams(query, Buffer.alloc(0)), 'vmid');

  if (asked !== undefined && (await taken(Number(asked)))) return alreadyExists(format, asked);

  let candidate = asked;
  for (let probe = 0; probe < MAX_PROBES; probe += 1) {
    const answer = await askPve(candidate, credentials, context);
    if (answer.kind === 'relay') return answer.answer;

    if (
      answer.kind === 'free' &&
      !isQueuedNewid(lanes, answer.vmid) &&
      (await holds.claim(answer.vmid))
    ) {
      context.logger.debug('nextid handed out and held', { vmid: answer.vmid });
      return createDataAnswer(format, String(answer.vmid));
    }
    if (asked !== undefined) return alreadyExists(format, asked);

    // Ids this proxy holds are skipped without asking PVE: only ids PVE knows cost a request.
    let next = answer.vmid + 1;
    while (next < MAX_VMID && (await taken(next))) next += 1;
    candidate = String(next);
  }
  return createErrorAnswer(format, 500, `pve-clone-proxy: no free VMID in ${MAX_PROBES} tries`);
}

type PveNextid =
  | { kind: 'free'; vmid: number }
  | { kind: 'taken'; vmid: number }
  | { kind: 'relay'; answer: PveAnswer };

/** Ask PVE for the lowest free id, or whether one id is free (`?vmid=`). */
async function askPve(
  vmid: string | undefined,
  credentials: string[],
  context: CloneContext,
): Promise<PveNextid> {
  const path = `/api2/json/cluster/nextid${vmid === undefined ? '' : `?vmid=${encodeURIComponent(vmid)}`}`;
  let answer: PveAnswer;
  try {
    answer = await getFromPve(context, path, credentials);
  } catch (error) {
    const failure = describeUpstreamFailure(error, context.config.target);
    return {
      kind: 'relay',
      answer: createErrorAnswer('json', failure.status, `pve-clone-proxy: ${failure.message}`),
    };
  }

  const data = Number(readEnvelopeData(answer));
  if (answer.status === 200 && Number.isInteger(data)) return { kind: 'free', vmid: data };
  if (
    answer.status === 400 &&
    vmid !== undefined &&
    /already exists/.test(answer.body.toString('utf8'))
  ) {
    return { kind: 'taken', vmid: Number(vmid) };
  }
  return { kind: 'relay', answer };
}

/** PVE's own answer for an id in use (pve-manager PVE/API2/Cluster.pm, nextid). */
function alreadyExists(format: string, vmid: string): PveAnswer {
  return createErrorAnswer(
    format,
    400,
    'Parameter verification failed.',
    {},
    { vmid: `VM ${vmid} already exists` },
  );
}

function isQueuedNewid(lanes: CloneLanes, vmid: number): boolean {
  const wanted = String(vmid);
  return lanes.list().some((lane) => {
    const jobs = lane.inFlight ? [lane.inFlight.job, ...lane.listWaiting()] : lane.listWaiting();
    return jobs.some((job) => readParam(job.request.params, 'newid') === wanted);
  });
}
