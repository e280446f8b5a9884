import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

import type { Dispatcher } from 'undici';

import { exchangeUpstream } from '../upstream/upstream-exchange';
import { describeUpstreamFailure } from '../upstream/upstream-failure';

/** Whether PVE answered `GET /api2/json/version`, and how. */
export interface PveHealth {
  /** True for any HTTP answer, 401 included: something that speaks PVE's HTTP is there. */
  answers: boolean;
  status?: number;
  /** Why PVE did not answer; never contains credentials. */
  reason?: string;
  ms: number;
  checkedAt: string;
}

export interface PveHealthProbe {
  check(req: IncomingMessage): Promise<PveHealth>;
}

export interface PveHealthOptions {
  target: string;
  dispatcher: () => Dispatcher;
  timeoutMs: number;
  cacheMs: number;
}

// Only what PVE needs to know who asks; a GET needs no CSRF token (pve-api-facts 4.2).
const CREDENTIAL_HEADERS = new Set(['authorization', 'cookie']);
const CACHE_LIMIT = 100;

/**
 * Ask PVE for its version with the caller's own credentials, at most once per `cacheMs` for
 * the same credentials; callers that arrive meanwhile share the answer in progress. The probe
 * gives up after `timeoutMs`, whatever PVE does.
 */
export function createPveHealthProbe(options: PveHealthOptions): PveHealthProbe {
  const cache = new Map<string, { until: number; health: Promise<PveHealth> }>();

  return {
    check(req) {
      const headers = pickCredentials(req);
      const key = createHash('sha256').update(headers.join('\n')).digest('hex');
      const now = Date.now();
      const cached = cache.get(key);
      if (cached && cached.until > now) return cached.health;

      if (cache.size >= CACHE_LIMIT) {
        for (const [old, entry] of cache) if (entry.until <= now) cache.delete(old);
      }
      const health = probe(headers, options);
      cache.set(key, { until: now + options.cacheMs, health });
      return health;
    },
  };
}

async function probe(headers: string[], options: PveHealthOptions): Promise<PveHealth> {
  const startedAt = Date.now();
  const timer = new AbortController();
  const abort = setTimeout(() => timer.abort(), options.timeoutMs);
  const tooLate = `PVE at ${options.target} did not answer within ${options.timeoutMs} ms`;

  // The abort signal only reaches undici once connected; the race bounds the connect as well.
  const asked = exchangeUpstream(options.dispatcher(), {
    origin: options.target,
    method: 'GET',
    path: '/api2/json/version',
    headers,
    timeoutMs: options.timeoutMs,
    signal: timer.signal,
  }).then(
    (answer) => ({ answers: true, status: answer.status }),
    (error: unknown) => ({
      answers: false,
      reason: timer.signal.aborted
        ? tooLate
        : describeUpstreamFailure(error, options.target).message,
    }),
  );
  const given = new Promise<{ answers: false; reason: string }>((resolve) =>
    timer.signal.addEventListener('abort', () => resolve({ answers: false, reason: tooLate })),
  );

  const result = await Promise.race([asked, given]);
  clearTimeout(abort);
  return { ...result, ms: Date.now() - startedAt, checkedAt: new Date(startedAt).toISOString() };
}

function pickCredentials(req: IncomingMessage): string[] {
  const headers: string[] = [];
  for (let index = 0; index < req.rawHeaders.length; index += 2) {
    if (CREDENTIAL_HEADERS.has(req.rawHeaders[index].toLowerCase())) {
      headers.push(req.rawHeaders[index], req.rawHeaders[index + 1]);
    }
  }
  return headers;
}
