import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FrontProcess } from '../deploy/support/front-process';
import { send, TOKEN } from '../support/http-client';
import type { LoadJob, LoadResult } from './children/load-generator';
import type { DoubleSettings } from './children/pve-double';
import { type BenchChild, startBenchChild } from './support/bench-child';
import { type ProfileWindow, summarizeProfile } from './support/cpu-profile';
import { CADDY, type Front, NGINX } from './support/fronts';
import {
  formatNumber,
  formatSpread,
  formatVerdict,
  type Section,
  type Table,
} from './support/report';
import { median, spreadOf } from './support/stats';

const CONNECTIONS = 32;
const WARMUP_SECONDS = 0.5;
/** Let a server finish what the last run left queued before the next run starts. */
const SETTLE_MS = 500;
const PUT_BODY = `description=${'x'.repeat(64 * 1024 - 'description='.length)}`;
const WORKLOADS = [
  { name: 'GET /api2/json/version', method: 'GET', path: '/api2/json/version' },
  { name: 'PUT 64 KiB config', method: 'PUT', path: '/api2/json/nodes/pve1/lxc/100/config' },
] as const;
const GOAL_ADDED_P99_MS = 2;

type Workload = (typeof WORKLOADS)[number];

interface Target {
  name: string;
  url: string;
}

interface Plan {
  seconds: number;
  /** A first, longer warm-up per target: JIT, and modules loaded on first use. */
  firstWarmupSeconds: number;
  getRounds: number;
  putRounds: number;
  profileSeconds: number;
}

/**
 * Passthrough at a fixed 32 connections: the double alone, then behind this proxy, nginx and
 * Caddy, each in its own process, the load generator in another. Targets take turns within a
 * round, so slow drift of the machine touches all of them alike.
 */
export async function benchPassthrough(options: {
  quick: boolean;
  root: string;
  log: (line: string) => void;
}): Promise<Section[]> {
  const plan: Plan = options.quick
    ? { seconds: 3, firstWarmupSeconds: 1, getRounds: 1, putRounds: 1, profileSeconds: 3 }
    : { seconds: 10, firstWarmupSeconds: 3, getRounds: 3, putRounds: 2, profileSeconds: 5 };
  const started: { stop(): Promise<void> }[] = [];
  try {
    const double = await startBenchChild('pve-double', {
      env: { BENCH_DOUBLE: JSON.stringify({ forgetEveryMs: 250 } satisfies DoubleSettings) },
    });
    started.push(double);
    const doubleUrl = String(double.ready.url);
    const proxy = await startProxy(doubleUrl);
    started.push(proxy);
    const load = await startBenchChild('load-generator');
    started.push(load);

    const targets: Target[] = [
      { name: 'PVE double, direct', url: doubleUrl },
      { name: 'pve-clone-proxy', url: String(proxy.ready.url) },
    ];
    const skipped: string[] = [];
    for (const front of [NGINX, CADDY]) {
      const running = await startFront(front, doubleUrl, skipped);
      if (!running) continue;
      started.push(running);
      targets.push({ name: `${front.name} ${front.version}`, url: running.url });
    }
    for (const target of targets) {
      await verifyTarget(target);
      await runLoad(load, 'peak', job(target, WORKLOADS[0], plan.firstWarmupSeconds));
    }

    // peak rate, closed loop
    const peaks = new Map<string, LoadResult[]>();
    for (const workload of WORKLOADS) {
      const rounds = workload.method === 'GET' ? plan.getRounds : plan.putRounds;
      for (let round = 0; round < rounds; round++) {
        for (const target of targets) {
          options.log(
            `passthrough: ${workload.name} via ${target.name}, round ${round + 1}/${rounds}`,
          );
          await sleep(SETTLE_MS);
          await runLoad(load, 'peak', job(target, workload, WARMUP_SECONDS));
          const result = await runLoad(load, 'peak', job(target, workload, plan.seconds));
          const key = `${workload.name}|${target.name}`;
          peaks.set(key, [...(peaks.get(key) ?? []), result]);
        }
      }
    }

    // half of the proxy's own peak, paced
    const proxyPeak = median(
      (peaks.get(`${WORKLOADS[0].name}|${targets[1].name}`) ?? []).map((r) => r.requestsPerSecond),
    );
    const rate = Math.max(1, Math.round(proxyPeak / 2));
    const pacedTargets = targets.slice(0, 2);
    const paced = new Map<string, LoadResult>();
    for (const target of pacedTargets) {
      options.log(`passthrough: ${rate} GET/s paced via ${target.name}`);
      await sleep(SETTLE_MS);
      await runLoad(load, 'paced', { ...job(target, WORKLOADS[0], WARMUP_SECONDS), rate });
      const result = await runLoad(load, 'paced', {
        ...job(target, WORKLOADS[0], plan.seconds),
        rate,
      });
      paced.set(target.name, result);
    }

    // profile of the proxy under the GET load, in a process of its own
    options.log(`passthrough: profiling the proxy for ${plan.profileSeconds} s`);
    const profile = await profileProxy(doubleUrl, load, plan, options.root);

    return [
      describePeaks(targets, peaks, plan, skipped),
      describePaced(pacedTargets, paced, rate, proxyPeak, plan),
      profile,
    ];
  } finally {
    for (const child of started.reverse()) await child.stop();
  }
}

function startProxy(doubleUrl: string, execArgv: string[] = []): Promise<BenchChild> {
  return startBenchChild('proxy-server', {
    env: {
      CLONE_PROXY_LISTEN: '127.0.0.1:0',
      CLONE_PROXY_TARGET: doubleUrl,
      CLONE_PROXY_LOG_FORMAT: 'json',
    },
    execArgv,
  });
}

async function startFront(
  front: Front,
  doubleUrl: string,
  skipped: string[],
): Promise<FrontProcess | undefined> {
  if (front.missing) {
    skipped.push(`${front.name}: ${front.missing}`);
    return undefined;
  }
  try {
    return await front.start(doubleUrl);
  } catch (error) {
    skipped.push(`${front.name}: ${(error as Error).message.split('\n')[0]}`);
    return undefined;
  }
}

/** One request of each kind must come back 200, or the figures would measure error pages. */
async function verifyTarget(target: Target): Promise<void> {
  for (const workload of WORKLOADS) {
    const reply = await send(target.url, {
      method: workload.method,
      path: workload.path,
      headers: headersFor(workload),
      body: workload.method === 'PUT' ? PUT_BODY : undefined,
      signal: AbortSignal.timeout(10_000),
    });
    if (reply.status !== 200) {
      throw new Error(`${target.name}: ${workload.name} answered ${reply.status} ${reply.body}`);
    }
  }
}

function headersFor(workload: Workload): Record<string, string> {
  return workload.method === 'PUT'
    ? { Authorization: TOKEN, 'Content-Type': 'application/x-www-form-urlencoded' }
    : { Authorization: TOKEN };
}

function job(target: Target, workload: Workload, seconds: number): LoadJob {
  return {
    url: `${target.url}${workload.path}`,
    method: workload.method,
    headers: headersFor(workload),
    body: workload.method === 'PUT' ? PUT_BODY : undefined,
    connections: CONNECTIONS,
    seconds,
  };
}

function runLoad(load: BenchChild, kind: 'peak' | 'paced', loadJob: LoadJob): Promise<LoadResult> {
  return load.call<LoadResult>(kind, loadJob, (loadJob.seconds + 60) * 1000);
}

async function profileProxy(
  doubleUrl: string,
  load: BenchChild,
  plan: Plan,
  root: string,
): Promise<Section> {
  const seconds = plan.profileSeconds;
  const dir = await mkdtemp(join(tmpdir(), 'pve-clone-proxy-bench-prof-'));
  try {
    const proxy = await startProxy(doubleUrl, ['--cpu-prof', '--cpu-prof-dir', dir]);
    let result: LoadResult;
    let window: ProfileWindow;
    try {
      const target = { name: 'profiled proxy', url: String(proxy.ready.url) };
      await runLoad(load, 'peak', job(target, WORKLOADS[0], plan.firstWarmupSeconds));
      const fromUs = Number(process.hrtime.bigint() / 1000n);
      result = await runLoad(load, 'peak', job(target, WORKLOADS[0], seconds));
      window = { fromUs, toUs: Number(process.hrtime.bigint() / 1000n) };
    } finally {
      await proxy.stop();
    }
    const files = (await readdir(dir)).filter((name) => name.endsWith('.cpuprofile'));
    if (files.length === 0) throw new Error('the profiled proxy wrote no .cpuprofile');
    const summary = summarizeProfile(join(dir, files[0]), root, window);

    const table: Table = {
      head: ['#', 'function', 'where', 'self time', 'share of busy time'],
      rows: summary.top.map((hot, i) => [
        String(i + 1),
        `\`${hot.name}\``,
        hot.where ? `\`${hot.where}\`` : '',
        `${formatNumber(hot.selfMs, 0)} ms`,
        `${formatNumber(hot.share * 100, 1)} %`,
      ]),
    };
    const areas = summary.areas
      .slice(0, 8)
      .map((a) => `${a.area} ${formatNumber(a.share * 100, 1)} %`)
      .join(', ');
    return {
      title: 'Where the proxy spends its time',
      method: `\`node --cpu-prof\` on a fresh proxy process during ${seconds} s of the GET load (after a ${plan.firstWarmupSeconds} s warm-up) at ${CONNECTIONS} connections (${formatNumber(result.requestsPerSecond)} req/s under the profiler), before any tuning. Self time per function, over ${formatNumber(summary.busyMs / 1000, 1)} s of busy (non-idle) time.`,
      tables: [table],
      reading: [
        `Self time by where the code lives: ${areas}.`,
        'Lines of our own TypeScript are not given: under tsx the profile holds transpiled lines.',
      ],
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function describePeaks(
  targets: Target[],
  peaks: Map<string, LoadResult[]>,
  plan: Plan,
  skipped: string[],
): Section {
  const figures = (workload: Workload, target: Target) =>
    peaks.get(`${workload.name}|${target.name}`) ?? [];
  const tables = WORKLOADS.map(
    (workload): Table => ({
      head: [workload.name, 'requests/s', 'p50', 'p99', 'failed'],
      rows: targets.map((target) => {
        const runs = figures(workload, target);
        return [
          target.name,
          formatSpread(spreadOf(runs.map((r) => r.requestsPerSecond)), 0),
          formatSpread(spreadOf(runs.map((r) => r.p50Ms)), 2, ' ms'),
          formatSpread(spreadOf(runs.map((r) => r.p99Ms)), 2, ' ms'),
          String(runs.reduce((sum, r) => sum + r.failed, 0)),
        ];
      }),
    }),
  );

  // Ratios within a round, so that both sides of each ratio saw the same machine.
  const reading: string[] = [];
  const proxy = targets[1];
  for (const workload of WORKLOADS) {
    const ofProxy = figures(workload, proxy).map((r) => r.requestsPerSecond);
    const direct = figures(workload, targets[0]).map((r) => r.requestsPerSecond);
    const share = median(ofProxy.map((rps, i) => rps / direct[i]));
    const parts = [
      `${workload.name}: the proxy passes ${formatNumber(share * 100)} % of the rate the double reaches alone`,
    ];
    for (const other of targets.slice(2)) {
      const theirs = figures(workload, other).map((r) => r.requestsPerSecond);
      const ratio = median(ofProxy.map((rps, i) => rps / theirs[i]));
      parts.push(`${formatNumber(ratio, 2)}× the rate of ${other.name}`);
    }
    reading.push(`${parts.join(', ')}.`);
  }
  const caddy = targets.find((t) => t.name.startsWith('Caddy'));
  if (caddy) {
    const ofProxy = figures(WORKLOADS[0], proxy).map((r) => r.requestsPerSecond);
    const ofCaddy = figures(WORKLOADS[0], caddy).map((r) => r.requestsPerSecond);
    const ratio = median(ofProxy.map((rps, i) => rps / ofCaddy[i]));
    reading.push(
      `Goal: proxy throughput ≥ Caddy's (GET): ${formatNumber(ratio, 2)}×, ${formatVerdict(ratio >= 1)}.`,
    );
  }
  reading.push(
    'On two cores the load generator, the proxy under test and the double share the CPU, so every rate here is below what the proxy would reach on its own machine; the ratios are the figures to compare.',
  );
  for (const line of skipped) reading.push(`Not measured: ${line}.`);

  return {
    title: 'Passthrough',
    method: `autocannon 9.0.0 at ${CONNECTIONS} keep-alive connections for ${plan.seconds} s after a ${WARMUP_SECONDS} s warm-up (${plan.firstWarmupSeconds} s the first time for each target), ${plan.getRounds} round(s) for GET and ${plan.putRounds} for PUT, targets taking turns within each round; every server in its own process, the load generator in another. Latency is per request, to a hundredth of a millisecond (autocannon's own histogram keeps whole milliseconds). Figures: median of the rounds (min–max). The GET carries the test API token; the PUT is a 64 KiB form body (\`description=xxx…\`).`,
    tables,
    reading,
  };
}

function describePaced(
  targets: Target[],
  paced: Map<string, LoadResult>,
  rate: number,
  proxyPeak: number,
  plan: Plan,
): Section {
  const direct = paced.get(targets[0].name);
  const table: Table = {
    head: [
      `${rate} GET/s, paced`,
      'p50',
      'p99',
      'p99 added to direct',
      'schedule slip p99',
      'failed',
    ],
    rows: targets.map((target) => {
      const result = paced.get(target.name);
      if (!result) return [target.name, '–', '–', '–', '–', '–'];
      const added = direct ? result.p99Ms - direct.p99Ms : Number.NaN;
      return [
        target.name,
        `${formatNumber(result.p50Ms, 2)} ms`,
        `${formatNumber(result.p99Ms, 2)} ms`,
        target === targets[0] ? '' : `${formatNumber(added, 2)} ms`,
        `${formatNumber(result.lateP99Ms ?? Number.NaN, 2)} ms`,
        String(result.failed),
      ];
    }),
  };
  const proxyResult = paced.get(targets[1].name);
  const added = proxyResult && direct ? proxyResult.p99Ms - direct.p99Ms : Number.NaN;
  return {
    title: 'Latency at half of the proxy’s peak',
    method: `${rate} GET/s (half of the proxy's median peak of ${formatNumber(proxyPeak)} req/s), ${plan.seconds} s per target, sent at a steady pace by a small open-loop generator (undici, ${CONNECTIONS} connections): request i leaves at i / rate whether or not earlier ones are back. autocannon's \`overallRate\` is not used because it sends each connection's quota for a second in a burst at the start of that second. Latency runs from a request leaving the generator to its answer; "schedule slip" shows how late requests left, i.e. whether the generator kept the pace.`,
    tables: [table],
    reading: [
      `Goal: p99 added by the proxy under ${GOAL_ADDED_P99_MS} ms at half its peak: ${formatNumber(added, 2)} ms, ${formatVerdict(added < GOAL_ADDED_P99_MS)}.`,
    ],
  };
}
