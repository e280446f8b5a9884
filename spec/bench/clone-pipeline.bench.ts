import { DEFAULT_OPTIONS } from '../../lib/config/proxy-config';
import { findMissingCommand } from '../deploy/support/front-process';
import { type RedisServer, startRedisServer } from '../scaling/support/redis-server';
import { type Reply, send, TOKEN } from '../support/http-client';
import type { DoubleRecord, DoubleSettings } from './children/pve-double';
import { type BenchChild, startBenchChild } from './support/bench-child';
import {
  formatNumber,
  formatSpread,
  formatVerdict,
  type Section,
  type Table,
} from './support/report';
import { median, mulberry32, percentile, spreadOf } from './support/stats';

/** Seed of the duration draw; change it and every figure below changes with it. */
export const DURATION_SEED = 0x5eed_c10e;
const TEMPLATES = [9000, 9002, 9004, 9006];
const CLONES_PER_TEMPLATE = 5;
const SHORTEST_MS = 500;
const LONGEST_MS = 8_000;
const JITTER = 0.02;
const FIRST_NEWID = 3000;
const FIXED_INTERVAL_MS = 2000;
/** Proxy processes sharing one redis-server in the Redis setting (issue 6). */
const REDIS_PROXIES = 3;
const REDIS_NAME = `${REDIS_PROXIES} proxies on Redis`;

const GOALS = { makespanRatio: 1.05, gapMedianMs: 50, gapP95Ms: 250, pollsPerTaskSecond: 2 };

interface PlannedClone {
  vmid: number;
  newid: number;
  taskMs: number;
}

interface Setting {
  name: string;
  env: Record<string, string>;
  /** Proxy processes on one redis-server of their own, clones spread round-robin over them. */
  redisProxies?: number;
}

interface PipelineRun {
  makespanRatio: number;
  makespanMs: number;
  taskSumMs: number;
  gapMedianMs: number;
  gapP95Ms: number;
  /** Gaps after a task whose template had been cloned before, so its duration was known. */
  learnedGapP95Ms: number;
  /** The two parts of a gap: task end to the poll that sees it, that poll to the next POST. */
  seenLateMedianMs: number;
  seenToNextMedianMs: number;
  pollsPerClone: number;
  pollsPerTaskSecond: number;
  maxConcurrentCloneTasks: number;
  failed: number;
}

/**
 * One duration per template, drawn log-uniformly from its own quarter of 0.5–8 s (so the four
 * always span the range), and a ±2 % jitter per clone. Clones of one template thus take about
 * as long as each other, which a proxy that learns durations per template can use. Submitted
 * round-robin over the templates: each template's first clone comes before any second one.
 */
export function planClones(scale: number): PlannedClone[] {
  const random = mulberry32(DURATION_SEED);
  const quarter = Math.log(LONGEST_MS / SHORTEST_MS) / TEMPLATES.length;
  const baseMs = TEMPLATES.map((_, i) => SHORTEST_MS * Math.exp(quarter * (i + random())));
  const plan: PlannedClone[] = [];
  for (let round = 0; round < CLONES_PER_TEMPLATE; round++) {
    TEMPLATES.forEach((vmid, i) => {
      const jitter = 1 + JITTER * (2 * random() - 1);
      plan.push({
        vmid,
        newid: FIRST_NEWID + plan.length,
        taskMs: Math.round(baseMs[i] * jitter * scale),
      });
    });
  }
  return plan;
}

/**
 * 20 clones submitted at once through the proxy, for the default settings and for fixed 2 s
 * polling, several times side by side: each run has its own double and proxy process.
 */
export async function benchClonePipeline(options: {
  quick: boolean;
  log: (line: string) => void;
}): Promise<Section> {
  // Quick mode shrinks the tasks and the fixed interval alike, so the comparison keeps its shape.
  const scale = options.quick ? 0.25 : 1;
  const replicas = options.quick ? 1 : 3;
  const plan = planClones(scale);
  const hasAdaptive = 'adaptivePolling' in DEFAULT_OPTIONS;
  const fixedMs = FIXED_INTERVAL_MS * scale;
  const settings: Setting[] = [
    { name: 'default (adaptive)', env: {} },
    {
      name: `fixed ${fixedMs / 1000} s`,
      env: { CLONE_PROXY_POLL_INTERVAL: `${fixedMs}ms`, CLONE_PROXY_ADAPTIVE_POLLING: 'false' },
    },
  ];
  const redisMissing = findMissingCommand('redis-server', ['--version']);
  if (redisMissing) options.log(`clone pipeline: ${REDIS_NAME} skipped: ${redisMissing}`);
  else settings.push({ name: REDIS_NAME, env: {}, redisProxies: REDIS_PROXIES });
  const sumMs = plan.reduce((sum, clone) => sum + clone.taskMs, 0);
  options.log(
    `clone pipeline: ${plan.length} clones, task sum ${(sumMs / 1000).toFixed(1)} s, ${replicas} run(s) of each setting side by side`,
  );

  const pairs = await Promise.all(
    settings.flatMap((setting) => Array.from({ length: replicas }, () => startPair(plan, setting))),
  );
  let results: PipelineRun[];
  try {
    const startedAt = performance.now();
    const limitMs = sumMs * 2 + 30_000;
    const finishes = await Promise.all(
      pairs.map((pair) => submitAll(pair.proxyUrls, plan, limitMs)),
    );
    results = await Promise.all(
      pairs.map(async (pair, i) =>
        summarize(await pair.double.call<DoubleRecord>('record'), finishes[i], startedAt, plan),
      ),
    );
  } finally {
    await Promise.all(pairs.map(stopPair));
  }

  const bySetting = settings.map((setting, s) => ({
    setting,
    runs: results.slice(s * replicas, (s + 1) * replicas),
  }));
  return describe(bySetting, plan, replicas, scale, hasAdaptive, redisMissing);
}

interface Pair {
  double: BenchChild;
  proxies: BenchChild[];
  proxyUrls: string[];
  redis?: RedisServer;
}

async function startPair(plan: PlannedClone[], setting: Setting): Promise<Pair> {
  const settings: DoubleSettings = {
    extraGuests: [9004, 9006].map((vmid) => ({
      vmid,
      template: true,
      storage: 'local-lvm',
      hostname: `tpl-${vmid}`,
    })),
    taskMsByNewid: Object.fromEntries(plan.map((clone) => [clone.newid, clone.taskMs])),
  };
  const double = await startBenchChild('pve-double', {
    env: { BENCH_DOUBLE: JSON.stringify(settings) },
  });
  const pair: Pair = { double, proxies: [], proxyUrls: [] };
  try {
    const env = { ...setting.env };
    if (setting.redisProxies) {
      pair.redis = await startRedisServer();
      env.CLONE_PROXY_REDIS_URL = pair.redis.url;
    }
    for (let i = 0; i < (setting.redisProxies ?? 1); i++) {
      pair.proxies.push(await startProxy(String(double.ready.url), env));
    }
  } catch (error) {
    await stopPair(pair);
    throw error;
  }
  pair.proxyUrls = pair.proxies.map((proxy) => String(proxy.ready.url));
  return pair;
}

function startProxy(doubleUrl: string, env: Record<string, string>): Promise<BenchChild> {
  return startBenchChild('proxy-server', {
    env: {
      CLONE_PROXY_LISTEN: '127.0.0.1:0',
      CLONE_PROXY_TARGET: doubleUrl,
      CLONE_PROXY_LOG_FORMAT: 'json',
      ...env,
    },
  });
}

async function stopPair(pair: Pair): Promise<void> {
  await Promise.all([...pair.proxies.map((proxy) => proxy.stop()), pair.double.stop()]);
  await pair.redis?.close();
}

interface Finish {
  lastAnswerAt: number;
  failed: number;
}

/** Every clone at once, spread round-robin over the proxies. */
async function submitAll(
  proxyUrls: string[],
  plan: PlannedClone[],
  limitMs: number,
): Promise<Finish> {
  let lastAnswerAt = 0;
  let failed = 0;
  await Promise.all(
    plan.map(async (clone, i) => {
      const reply: Reply | undefined = await send(proxyUrls[i % proxyUrls.length], {
        method: 'POST',
        path: `/api2/json/nodes/pve1/lxc/${clone.vmid}/clone`,
        headers: { Authorization: TOKEN, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: `newid=${clone.newid}&full=1`,
        signal: AbortSignal.timeout(limitMs),
      }).catch(() => undefined);
      lastAnswerAt = Math.max(lastAnswerAt, performance.now());
      if (reply?.status !== 200 || !String(reply.json().data).startsWith('UPID:')) failed += 1;
    }),
  );
  return { lastAnswerAt, failed };
}

function summarize(
  record: DoubleRecord,
  finish: Finish,
  startedAt: number,
  plan: PlannedClone[],
): PipelineRun {
  const clones = [...record.clones].sort((a, b) => a.startedAt - b.startedAt);
  const taskSumMs = clones.reduce((sum, c) => sum + ((c.endedAt ?? c.startedAt) - c.startedAt), 0);
  const gaps: number[] = [];
  const learnedGaps: number[] = [];
  const seenLate: number[] = [];
  const seenToNext: number[] = [];
  const seen = new Set<number>();
  for (let i = 1; i < clones.length; i++) {
    const before = clones[i - 1];
    const arrived = clones[i].postReceivedAt ?? clones[i].startedAt;
    if (before.endedAt !== undefined && before.stopSeenAt !== undefined) {
      seenLate.push(before.stopSeenAt - before.endedAt);
      seenToNext.push(arrived - before.stopSeenAt);
    }
    const learned = seen.has(before.vmid);
    seen.add(before.vmid);
    if (before.endedAt === undefined) continue;
    gaps.push(arrived - before.endedAt);
    if (learned) learnedGaps.push(arrived - before.endedAt);
  }
  const makespanMs = finish.lastAnswerAt - startedAt;
  return {
    makespanRatio: makespanMs / taskSumMs,
    makespanMs,
    taskSumMs,
    gapMedianMs: median(gaps),
    gapP95Ms: percentile(gaps, 95),
    learnedGapP95Ms: percentile(learnedGaps, 95),
    seenLateMedianMs: median(seenLate),
    seenToNextMedianMs: median(seenToNext),
    pollsPerClone: record.statusPolls / plan.length,
    pollsPerTaskSecond: record.statusPolls / (taskSumMs / 1000),
    maxConcurrentCloneTasks: record.maxConcurrentCloneTasks,
    failed: finish.failed + Math.max(0, plan.length - clones.length),
  };
}

function describe(
  bySetting: { setting: Setting; runs: PipelineRun[] }[],
  plan: PlannedClone[],
  replicas: number,
  scale: number,
  hasAdaptive: boolean,
  redisMissing: string | undefined,
): Section {
  const figure = (runs: PipelineRun[], pick: (run: PipelineRun) => number) =>
    spreadOf(runs.map(pick));
  const columns: [string, (run: PipelineRun) => number, number, string][] = [
    ['makespan / task sum', (r) => r.makespanRatio, 3, ''],
    ['dispatch gap median', (r) => r.gapMedianMs, 0, ' ms'],
    ['gap p95', (r) => r.gapP95Ms, 0, ' ms'],
    ['gap p95, known templates', (r) => r.learnedGapP95Ms, 0, ' ms'],
    ['polls per clone', (r) => r.pollsPerClone, 1, ''],
    ['polls per task-second', (r) => r.pollsPerTaskSecond, 2, ''],
    ['most tasks at once', (r) => r.maxConcurrentCloneTasks, 0, ''],
  ];
  const table: Table = {
    head: ['setting', ...columns.map(([name]) => name), 'failed clones'],
    rows: bySetting.map(({ setting, runs }) => [
      setting.name,
      ...columns.map(([, pick, digits, unit]) => formatSpread(figure(runs, pick), digits, unit)),
      String(runs.reduce((sum, r) => sum + r.failed, 0)),
    ]),
  };
  const [adaptive, fixed, redis] = bySetting.map(({ runs }) => ({
    ratio: figure(runs, (r) => r.makespanRatio).median,
    gapMedian: figure(runs, (r) => r.gapMedianMs).median,
    gapP95: figure(runs, (r) => r.gapP95Ms).median,
    learnedP95: figure(runs, (r) => r.learnedGapP95Ms).median,
    seenLate: figure(runs, (r) => r.seenLateMedianMs).median,
    seenToNext: figure(runs, (r) => r.seenToNextMedianMs).median,
    polls: figure(runs, (r) => r.pollsPerTaskSecond).median,
    makespan: figure(runs, (r) => r.makespanMs).median,
    mostAtOnce: Math.max(...runs.map((r) => r.maxConcurrentCloneTasks)),
  }));
  const goal = (limit: number, value: number, unit = '') =>
    `≤ ${limit}${unit}: ${formatVerdict(value <= limit)}`;
  table.rows.push([
    'goal (default)',
    goal(GOALS.makespanRatio, adaptive.ratio),
    goal(GOALS.gapMedianMs, adaptive.gapMedian, ' ms'),
    goal(GOALS.gapP95Ms, adaptive.gapP95, ' ms'),
    '',
    '',
    goal(GOALS.pollsPerTaskSecond, adaptive.polls),
    goal(1, adaptive.mostAtOnce),
    '0',
  ]);

  const savedPerClone = (fixed.makespan - adaptive.makespan) / plan.length / 1000;
  const durations = TEMPLATES.map((vmid) => {
    const mine = plan.filter((clone) => clone.vmid === vmid).map((clone) => clone.taskMs);
    return `CT ${vmid} ${(median(mine) / 1000).toFixed(2)} s`;
  }).join(', ');
  const reading = [
    `Task durations: one per template, drawn log-uniformly from its own quarter of 0.5–8 s (so the four span the range), times a ±2 % jitter per clone, with mulberry32 seeded 0x${DURATION_SEED.toString(16)}: ${durations} (median of 5 clones each). Clones of one template take about as long as each other, as in real use, so a proxy that learns durations per template can profit; they are submitted round-robin over the templates, so each template's first clone comes before any second one.`,
    `With the defaults the 20 clones took ${adaptive.ratio.toFixed(3)} times the sum of their tasks; with fixed ${(FIXED_INTERVAL_MS * scale) / 1000} s polling ${fixed.ratio.toFixed(3)} times: ${savedPerClone.toFixed(2)} s more per clone, spent waiting for a poll that comes up to a whole interval after the task stopped.`,
    `The dispatch gap is what the proxy adds between two tasks: seeing the stop, answering the client, sending the next POST. With 19 gaps per run the p95 is the largest one, and 4 of them follow a template's first clone, whose duration the proxy cannot know yet; after a known template the p95 is ${formatNumber(adaptive.learnedP95)} ms. Of a median gap, ${formatNumber(adaptive.seenLate)} ms pass until a status poll reaches the double after the task ended, and ${formatNumber(adaptive.seenToNext)} ms from that poll to the next clone POST (the poll's answer, the client's answer, the next job's start).`,
    `Polls per task-second: ${adaptive.polls.toFixed(2)} adaptive against ${fixed.polls.toFixed(2)} fixed.`,
    redis
      ? `${REDIS_NAME} (issue 6): the clones spread round-robin over ${REDIS_PROXIES} proxy processes that share one redis-server took ${redis.ratio.toFixed(3)} times the task sum, against ${adaptive.ratio.toFixed(3)} for one proxy with its lanes in memory; dispatch gap median ${formatNumber(redis.gapMedian)} ms (in memory ${formatNumber(adaptive.gapMedian)} ms), p95 ${formatNumber(redis.gapP95)} ms (${formatNumber(adaptive.gapP95)} ms). At most ${redis.mostAtOnce} clone task(s) ran at once in the double; one at a time: ${formatVerdict(redis.mostAtOnce <= 1)}.`
      : `${REDIS_NAME}: not measured (${redisMissing}).`,
  ];
  if (scale !== 1) {
    reading.push(
      'Quick mode: tasks and the fixed interval are 4 times shorter, which raises polls per task-second; hold the goals against a full run.',
    );
  }
  if (!hasAdaptive) {
    reading.unshift(
      'Adaptive polling is not in this build (no `adaptivePolling` option), so both rows poll at a fixed interval; re-run once it lands.',
    );
  }
  const runs = replicas === 1 ? 'one run' : `${replicas} runs`;
  return {
    title: 'Clone pipeline',
    method: `20 clones (4 templates × 5) submitted at once to the proxy in front of the PVE double, all default settings except the one named; ${scale === 1 ? '' : `task durations scaled by ${scale} (quick mode); `}${runs} per setting, all side by side, each with its own double and proxy process (the ${REDIS_NAME} row: ${REDIS_PROXIES} proxy processes and a redis-server of its own, on a free loopback port, persisting nothing). Figures: median of the runs (min–max). Makespan runs from submitting to the last answer; the dispatch gap from a task's end in the double to the next clone POST reaching the double.`,
    tables: [table],
    reading,
  };
}
