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
import { describePaced, describePeaks } from './support/passthrough-report';
import {
  CLOCK_TICK_MS,
  CONNECTIONS,
  type Measured,
  PIPE_NAME,
  type Plan,
  PUT_BODY,
  SETTLE_MS,
  type Target,
  WARMUP_SECONDS,
  WORKERS,
  WORKERS_NAME,
  WORKLOADS,
  type Workload,
} from './support/passthrough-setup';
import { formatNumber, type Section, type Table } from './support/report';
import { median } from './support/stats';

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
    const pipe = await startBenchChild('node-pipe', { env: { BENCH_PIPE_TARGET: doubleUrl } });
    started.push(pipe);
    targets.push({ name: PIPE_NAME, url: String(pipe.ready.url), pid: pipe.pid });
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
    const pacedTargets = targets.filter(
      (t, i) => i < 2 || t.name === WORKERS_NAME || t.name === PIPE_NAME,
    );
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
