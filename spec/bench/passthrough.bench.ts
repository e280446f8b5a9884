import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FrontProcess } from '../deploy/support/front-process';
import { send, TOKEN } from '../support/http-client';
import type { LoadJob, LoadResult } from './children/load-generator';
import type { DoubleSettings } from './children/pve-double';
import { type BenchChild, startBenchChild } from './support/bench-child';
import { startClusterProxy } from './support/cluster-proxy';
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
/** `getconf CLK_TCK` is 100 on Linux. */
const CLOCK_TICK_MS = 10;
const WARMUP_SECONDS = 0.5;
/** Let a server finish what the last run left queued before the next run starts. */
const SETTLE_MS = 300;
const PUT_BODY = `description=${'x'.repeat(64 * 1024 - 'description='.length)}`;
const WORKLOADS = [
  { name: 'GET /api2/json/version', method: 'GET', path: '/api2/json/version' },
  { name: 'PUT 64 KiB config', method: 'PUT', path: '/api2/json/nodes/pve1/lxc/100/config' },
] as const;
const GOAL_ADDED_P99_MS = 2;
const WORKERS = 2;
const WORKERS_NAME = `pve-clone-proxy, ${WORKERS} workers`;

type Workload = (typeof WORKLOADS)[number];

interface Target {
  name: string;
  url: string;
  /** A single-process server whose CPU time per request is read from /proc. */
  pid?: number;
}

/** A load result plus the CPU the target spent per answered request, when known. */
interface Measured extends LoadResult {
  cpuUsPerRequest: number;
}

interface Plan {
  seconds: number;
  pacedSeconds: number;
  /** A first, longer warm-up per target: JIT, and modules loaded on first use. */
  firstWarmupSeconds: number;
  getRounds: number;
  putRounds: number;
  pacedRounds: number;
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
    ? {
        seconds: 3,
        pacedSeconds: 3,
        firstWarmupSeconds: 1,
        getRounds: 1,
        putRounds: 1,
        pacedRounds: 1,
        profileSeconds: 3,
      }
    : {
        seconds: 10,
        pacedSeconds: 6,
        firstWarmupSeconds: 2,
        getRounds: 3,
        putRounds: 2,
        pacedRounds: 2,
        profileSeconds: 5,
      };
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
      { name: 'PVE double, direct', url: doubleUrl, pid: double.pid },
      { name: 'pve-clone-proxy', url: String(proxy.ready.url), pid: proxy.pid },
    ];
    const skipped: string[] = [];
    const workers = await startClusterProxy(WORKERS, doubleUrl).catch((error: Error) => {
      skipped.push(`${WORKERS_NAME}: ${error.message.split('\n')[0]}`);
      return undefined;
    });
    if (workers) {
      started.push(workers);
      // Several processes, like nginx and Caddy: no CPU per request.
      targets.push({ name: WORKERS_NAME, url: workers.url });
    }
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
    const peaks = new Map<string, Measured[]>();
    for (const workload of WORKLOADS) {
      const rounds = workload.method === 'GET' ? plan.getRounds : plan.putRounds;
      for (let round = 0; round < rounds; round++) {
        for (const target of targets) {
          options.log(
            `passthrough: ${workload.name} via ${target.name}, round ${round + 1}/${rounds}`,
          );
          await sleep(SETTLE_MS);
          await runLoad(load, 'peak', job(target, workload, WARMUP_SECONDS));
          const result = await measure(target, () =>
            runLoad(load, 'peak', job(target, workload, plan.seconds)),
          );
          const key = `${workload.name}|${target.name}`;
          peaks.set(key, [...(peaks.get(key) ?? []), result]);
        }
      }
    }

    // half of the proxy's own peak, paced; the workers at half of theirs
    const peakOf = (target: Target) =>
      median(
        (peaks.get(`${WORKLOADS[0].name}|${target.name}`) ?? []).map((r) => r.requestsPerSecond),
      );
    const halfOf = (peak: number) => Math.max(1, Math.round(peak / 2));
    const proxyPeak = peakOf(targets[1]);
    const pacedTargets = targets.filter((t, i) => i < 2 || t.name === WORKERS_NAME);
    const rates = new Map(
      pacedTargets.map((t) => [t.name, halfOf(t.name === WORKERS_NAME ? peakOf(t) : proxyPeak)]),
    );
    const paced = new Map<string, Measured[]>();
    for (let round = 0; round < plan.pacedRounds; round++) {
      for (const target of pacedTargets) {
        const rate = rates.get(target.name) ?? 1;
        options.log(`passthrough: ${rate} GET/s paced via ${target.name}, round ${round + 1}`);
        await sleep(SETTLE_MS);
        await runLoad(load, 'paced', { ...job(target, WORKLOADS[0], WARMUP_SECONDS), rate });
        const result = await measure(target, () =>
          runLoad(load, 'paced', { ...job(target, WORKLOADS[0], plan.pacedSeconds), rate }),
        );
        paced.set(target.name, [...(paced.get(target.name) ?? []), result]);
      }
    }

    // profile of the proxy under the GET load, in a process of its own
    options.log(`passthrough: profiling the proxy for ${plan.profileSeconds} s`);
    const profile = await profileProxy(doubleUrl, load, plan, options.root);

    return [
      describePeaks(targets, peaks, plan, skipped),
      describePaced(pacedTargets, paced, rates, proxyPeak, plan),
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

/** Run `load` and note the CPU time (user + system) the target process spent meanwhile. */
async function measure(target: Target, load: () => Promise<LoadResult>): Promise<Measured> {
  const before = target.pid ? readCpuMs(target.pid) : Number.NaN;
  const result = await load();
  const spentMs = target.pid ? readCpuMs(target.pid) - before : Number.NaN;
  return { ...result, cpuUsPerRequest: (spentMs * 1000) / result.answered };
}

/** CPU time of a process in ms, from /proc (utime and stime, in clock ticks of 10 ms). */
function readCpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_MS;
  } catch {
    return Number.NaN;
  }
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
      method: `\`node --cpu-prof\` on a fresh proxy process during ${seconds} s of the GET load (after a ${plan.firstWarmupSeconds} s warm-up) at ${CONNECTIONS} connections (${formatNumber(result.requestsPerSecond)} req/s under the profiler). Self time per function, over ${formatNumber(summary.busyMs / 1000, 1)} s of busy (non-idle) time.`,
      tables: [table],
      reading: [
        `Self time by where the code lives: ${areas}.`,
        'The profiler samples on a wall-clock timer, so on this busy 2-core machine the time the proxy waits for a core after a socket write wakes the double or the client is booked to that write (`writev`, `writeLatin1String`); compare with "CPU per request" above. Lines of our own TypeScript are not given: under tsx the profile holds transpiled lines.',
      ],
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function describePeaks(
  targets: Target[],
  peaks: Map<string, Measured[]>,
  plan: Plan,
  skipped: string[],
): Section {
  const figures = (workload: Workload, target: Target) =>
    peaks.get(`${workload.name}|${target.name}`) ?? [];
  const tables = WORKLOADS.map(
    (workload): Table => ({
      head: [workload.name, 'requests/s', 'p50', 'p99', 'CPU per request', 'failed'],
      rows: targets.map((target) => {
        const runs = figures(workload, target);
        return [
          target.name,
          formatSpread(spreadOf(runs.map((r) => r.requestsPerSecond)), 0),
          formatSpread(spreadOf(runs.map((r) => r.p50Ms)), 2, ' ms'),
          formatSpread(spreadOf(runs.map((r) => r.p99Ms)), 2, ' ms'),
          target.pid ? formatSpread(spreadOf(runs.map((r) => r.cpuUsPerRequest)), 0, ' µs') : '–',
          String(runs.reduce((sum, r) => sum + r.failed, 0)),
        ];
      }),
    }),
  );

  // Ratios within a round, so that both sides of each ratio saw the same machine.
  const ratioOf = (workload: Workload, mine: Target, other: Target) => {
    const theirs = figures(workload, other).map((r) => r.requestsPerSecond);
    return median(figures(workload, mine).map((r, i) => r.requestsPerSecond / theirs[i]));
  };
  const proxies = targets.filter((t) => t.name.startsWith('pve-clone-proxy'));
  const fronts = targets.slice(1).filter((t) => !proxies.includes(t));
  const reading: string[] = [];
  for (const workload of WORKLOADS) {
    for (const proxy of proxies) {
      const parts = fronts.map(
        (other) => `${formatNumber(ratioOf(workload, proxy, other), 2)}× the rate of ${other.name}`,
      );
      reading.push(
        `${workload.name}: ${proxy.name} passes ${formatNumber(ratioOf(workload, proxy, targets[0]) * 100)} % of the rate the double reaches alone${parts.length ? `, ${parts.join(', ')}` : ''}.`,
      );
    }
  }
  const caddy = targets.find((t) => t.name.startsWith('Caddy'));
  if (caddy) {
    const ratios = proxies.map((proxy) => ({ proxy, ratio: ratioOf(WORKLOADS[0], proxy, caddy) }));
    const best = ratios.reduce((a, b) => (b.ratio > a.ratio ? b : a));
    const listed = ratios.map((r) => `${r.proxy.name} ${formatNumber(r.ratio, 2)}×`).join(', ');
    reading.push(
      `Goal: proxy throughput ≥ Caddy's (GET): ${listed}; ${formatVerdict(best.ratio >= 1)}${best.ratio >= 1 ? `, by ${best.proxy.name}` : ''}.`,
    );
  }
  const cpu = (target: Target) =>
    median(figures(WORKLOADS[0], target).map((r) => r.cpuUsPerRequest));
  reading.push(
    `CPU per GET: ${formatNumber(cpu(targets[1]))} µs in the proxy against ${formatNumber(cpu(targets[0]))} µs in the double that answers it; on two cores shared by the load generator, the server under test and the double, that CPU time is what bounds the rate.`,
  );
  const putDirect = median(figures(WORKLOADS[1], targets[0]).map((r) => r.requestsPerSecond));
  const putProxy = median(figures(WORKLOADS[1], targets[1]).map((r) => r.requestsPerSecond));
  if (putProxy > 0.7 * putDirect) {
    reading.push(
      `The PUT rows show the double's limit more than the fronts': it takes ${formatNumber(putDirect)} such PUTs per second on its own, so every front reaches about as much; a front's own cost for large bodies only shows once the double is faster than the fronts.`,
    );
  }
  const nginx = targets.find((t) => t.name.startsWith('nginx'));
  const nginxFailed = nginx
    ? WORKLOADS.flatMap((w) => figures(w, nginx)).reduce((sum, r) => sum + r.failed, 0)
    : 0;
  if (nginxFailed > 0) {
    reading.push(
      `nginx's ${nginxFailed} failures are connections it closes after its default 1,000 requests each (\`keepalive_requests\`), with a request already sent on them; autocannon counts those as errors.`,
    );
  }
  for (const line of skipped) reading.push(`Not measured: ${line}.`);

  return {
    title: 'Passthrough',
    method: `autocannon 9.0.0 at ${CONNECTIONS} keep-alive connections for ${plan.seconds} s after a ${WARMUP_SECONDS} s warm-up (${plan.firstWarmupSeconds} s the first time for each target), ${plan.getRounds} round(s) for GET and ${plan.putRounds} for PUT, targets taking turns within each round; every server in its own process, the load generator in another. Latency is per request, to a hundredth of a millisecond (autocannon's own histogram keeps whole milliseconds). CPU per request is the server process's user + system time over the run (from /proc) divided by the answers; nginx and Caddy run several processes or threads and are left out. Figures: median of the rounds (min–max). The GET carries the test API token; the PUT is a 64 KiB form body (\`description=xxx…\`).`,
    tables,
    reading,
  };
}

function describePaced(
  targets: Target[],
  paced: Map<string, Measured[]>,
  rates: Map<string, number>,
  proxyPeak: number,
  plan: Plan,
): Section {
  const rate = rates.get(targets[1].name) ?? 0;
  /** Rows paced at their own half peak name their rate; their added p99 has no direct twin. */
  const ownRate = (target: Target) => (rates.get(target.name) ?? rate) !== rate;
  const runsOf = (target: Target) => paced.get(target.name) ?? [];
  const direct = runsOf(targets[0]);
  const addedOf = (target: Target) => runsOf(target).map((r, i) => r.p99Ms - direct[i].p99Ms);
  const table: Table = {
    head: [
      `${rate} GET/s, paced`,
      'p50',
      'p99',
      'p99 added to direct',
      'CPU per request',
      'schedule slip p99',
      'failed',
    ],
    rows: targets.map((target) => {
      const runs = runsOf(target);
      return [
        ownRate(target) ? `${target.name} (at ${rates.get(target.name)} GET/s)` : target.name,
        formatSpread(spreadOf(runs.map((r) => r.p50Ms)), 2, ' ms'),
        formatSpread(spreadOf(runs.map((r) => r.p99Ms)), 2, ' ms'),
        target === targets[0] || ownRate(target)
          ? ''
          : formatSpread(spreadOf(addedOf(target)), 2, ' ms'),
        target.pid ? formatSpread(spreadOf(runs.map((r) => r.cpuUsPerRequest)), 0, ' µs') : '–',
        formatSpread(spreadOf(runs.map((r) => r.lateP99Ms ?? Number.NaN)), 2, ' ms'),
        String(runs.reduce((sum, r) => sum + r.failed, 0)),
      ];
    }),
  };
  const added = median(addedOf(targets[1]));
  const coreShare = (rate * median(runsOf(targets[1]).map((r) => r.cpuUsPerRequest))) / 1e6;
  return {
    title: 'Latency at half of the proxy’s peak',
    method: `${rate} GET/s (half of the proxy's median peak of ${formatNumber(proxyPeak)} req/s), ${plan.pacedSeconds} s per target and round, ${plan.pacedRounds} round(s), the ${WORKERS_NAME} row at half of its own peak instead, sent at a steady pace by a small open-loop generator (undici, ${CONNECTIONS} connections): request i leaves at i / rate whether or not earlier ones are back. autocannon's \`overallRate\` is not used because it sends each connection's quota for a second in a burst at the start of that second. Latency runs from a request leaving the generator to its answer; "schedule slip" shows how late requests left, i.e. whether the generator kept the pace.`,
    tables: [table],
    reading: [
      `Goal: p99 added by the proxy under ${GOAL_ADDED_P99_MS} ms at half its peak: ${formatNumber(added, 2)} ms, ${formatVerdict(added < GOAL_ADDED_P99_MS)}.`,
      `At this rate the proxy spends more CPU per request than at its peak (no batching of reads and writes): ${formatNumber(coreShare * 100)} % of a core, on a machine whose two cores also run the generator, the double and anything else; where that approaches a whole core, requests queue and the tail grows.`,
    ],
  };
}
