import autocannon from 'autocannon';
import { Pool } from 'undici';

import { serveParent } from '../support/bench-child';
import { percentile } from '../support/stats';

/** One load run against `url` (origin plus path). */
export interface LoadJob {
  url: string;
  method: 'GET' | 'PUT';
  headers: Record<string, string>;
  body?: string;
  connections: number;
  seconds: number;
  /** Paced runs only: requests per second, spread evenly over the run. */
  rate?: number;
}

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  answered: number;
  /** Transport errors, timeouts and answers that were not 2xx. */
  failed: number;
  /** Paced runs: how late the 99th percentile request left against its schedule. */
  lateP99Ms?: number;
}

const SLACK_MS = 30_000;

/**
 * Closed loop at a fixed number of connections, for the peak rate. Latencies come from the
 * per-request event (fractions of a millisecond) rather than autocannon's histogram, which
 * keeps whole milliseconds only.
 */
function runPeak(job: LoadJob): Promise<LoadResult> {
  const latencies: number[] = [];
  let failed = 0;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: job.url,
        method: job.method,
        headers: job.headers,
        body: job.body,
        connections: job.connections,
        duration: job.seconds,
        timeout: 10,
      },
      (error, result) => {
        if (error) return reject(error);
        resolve({
          requestsPerSecond: latencies.length / job.seconds,
          p50Ms: percentile(latencies, 50),
          p99Ms: percentile(latencies, 99),
          answered: latencies.length,
          failed: failed + result.errors + result.timeouts,
        });
      },
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status >= 200 && status < 300) latencies.push(ms);
      else failed += 1;
    });
  });
}

/**
 * Open loop at a steady rate: request i leaves at start + i / rate, whether or not earlier ones
 * are back. autocannon's own rate limit sends each connection's whole quota for a second at
 * the start of that second, which is a burst at peak speed, not a steady half load.
 */
function runPaced(job: LoadJob): Promise<LoadResult> {
  const rate = job.rate ?? 1;
  const url = new URL(job.url);
  const pool = new Pool(url.origin, { connections: job.connections, pipelining: 1 });
  const total = Math.max(1, Math.round(rate * job.seconds));
  const latencies: number[] = [];
  const lateness: number[] = [];
  let failed = 0;
  let settled = 0;
  let sent = 0;
  const startedAt = performance.now();

  return new Promise((resolve) => {
    const finish = () => {
      clearTimeout(deadline);
      void pool.destroy();
      resolve({
        requestsPerSecond: latencies.length / ((performance.now() - startedAt) / 1000),
        p50Ms: percentile(latencies, 50),
        p99Ms: percentile(latencies, 99),
        answered: latencies.length,
        failed: failed + (total - settled),
        lateP99Ms: percentile(lateness, 99),
      });
    };
    const deadline = setTimeout(finish, job.seconds * 1000 + SLACK_MS);

    const fire = (intendedAt: number) => {
      const leftAt = performance.now();
      lateness.push(leftAt - intendedAt);
      pool
        .request({ path: url.pathname, method: job.method, headers: job.headers, body: job.body })
        .then(async (answer) => {
          await answer.body.dump();
          if (answer.statusCode >= 200 && answer.statusCode < 300) {
            latencies.push(performance.now() - leftAt);
          } else failed += 1;
        })
        .catch(() => {
          failed += 1;
        })
        .finally(() => {
          settled += 1;
          if (settled === total) finish();
        });
    };

    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - startedAt) * rate) / 1000) + 1);
      while (sent < due) {
        fire(startedAt + (sent * 1000) / rate);
        sent += 1;
      }
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
}

serveParent({ peak: runPeak, paced: runPaced }, { pid: process.pid });
