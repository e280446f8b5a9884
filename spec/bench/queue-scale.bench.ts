import { spawnSync } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import { send, TOKEN } from '../support/http-client';
import type { DoubleRecord, DoubleSettings } from './children/pve-double';
import { type BenchChild, startBenchChild } from './support/bench-child';
import type { ProcessMemory } from './support/memory';
import { formatNumber, formatVerdict, type Section, type Table } from './support/report';
import { median, percentile } from './support/stats';

const WANTED = 10_000;
/** Sockets a process needs beside the waiting clones: IPC, upstream, stdio, admin probes. */
const SOCKET_MARGIN = 256;
const BATCH = 500;
const PROBES = 20;
const ABORTS = 5;
const FIRST_NEWID = 100_000;
/** Long enough that the first clone is still running when the scenario ends. */
const FIRST_TASK_MS = 600_000;
const ADMIN_PATHS = ['/_clone-proxy/metrics', '/_clone-proxy/status', '/_clone-proxy/queue'];
const GOALS = { memoryMiB: 64, adminMs: 100 };

/**
 * One clone runs for ever (as far as this scenario goes) and the queue fills up behind it,
 * each waiting clone on its own connection (`Connection: close`), the client in this process.
 */
export async function benchQueueScale(options: { log: (line: string) => void }): Promise<Section> {
  const limit = readFileLimit();
  const count = Math.min(WANTED, limit - SOCKET_MARGIN);
  const settings: DoubleSettings = { defaultTaskMs: FIRST_TASK_MS };
  const double = await startBenchChild('pve-double', {
    env: { BENCH_DOUBLE: JSON.stringify(settings) },
  });
  let proxy: BenchChild | undefined;
  const clients: Socket[] = [];
  let findings: Omit<Findings, 'floor'>;
  try {
    proxy = await startBenchChild('proxy-server', {
      env: {
        CLONE_PROXY_LISTEN: '127.0.0.1:0',
        CLONE_PROXY_TARGET: String(double.ready.url),
        CLONE_PROXY_LOG_FORMAT: 'json',
        CLONE_PROXY_QUEUE_SIZE: String(count),
      },
      execArgv: ['--expose-gc'],
    });
    const url = new URL(String(proxy.ready.url));
    const port = Number(url.port);
    let refused = 0;
    const open = (i: number) => {
      const socket = openClone(port, FIRST_NEWID + i, () => {
        refused += 1;
      });
      clients.push(socket);
      return socket;
    };

    // the clone in flight
    open(0);
    await until(async () => (await double.call<DoubleRecord>('record')).clones.length === 1);
    await sleep(500);
    const idle = await proxy.call<ProcessMemory>('memory');

    // fill, probing the enqueue time at about 1,000 and at the end
    options.log(`queue scale: filling ${formatNumber(count)} waiting clones (file limit ${limit})`);
    const fill: { upTo: number; msPerClone: number }[] = [];
    const fillTo = async (target: number) => {
      while (clients.length - 1 < target) {
        const from = clients.length;
        const to = Math.min(target, from - 1 + BATCH);
        const startedAt = performance.now();
        for (let i = from; i <= to; i++) open(i);
        const reached = await proxy?.call<number>('waitForWaiting', {
          count: to,
          timeoutMs: 30_000,
        });
        if (reached === undefined || reached < to) {
          throw new Error(`queue stopped at ${reached} of ${to} (refused: ${refused})`);
        }
        fill.push({ upTo: to, msPerClone: (performance.now() - startedAt) / (to - from + 1) });
      }
    };
    const early = Math.min(1000, Math.floor(count / 10));
    await fillTo(early - PROBES);
    const probesEarly = await probe(proxy, PROBES, () => open(clients.length));
    await fillTo(count - PROBES);
    const probesLate = await probe(proxy, PROBES, () => open(clients.length));
    const waitingFull = await proxy.call<number>('waiting');
    const full = await proxy.call<ProcessMemory>('memory');

    // admin endpoints with the queue full
    const admin = [];
    for (const path of ADMIN_PATHS) {
      const times: number[] = [];
      let status = 0;
      let bytes = 0;
      for (let i = 0; i < 5; i++) {
        const startedAt = performance.now();
        const reply = await send(url.origin, { path, signal: AbortSignal.timeout(10_000) });
        times.push(performance.now() - startedAt);
        status = reply.status;
        bytes = reply.body.length;
      }
      admin.push({ path, status, bytes, medianMs: median(times), maxMs: Math.max(...times) });
    }

    // drop waiters near the head and near the tail
    const front = await dropWaiters(proxy, clients, [1, 2, 3, 4, 5].slice(0, ABORTS));
    const last = clients.length - 1;
    const back = await dropWaiters(
      proxy,
      clients,
      Array.from({ length: ABORTS }, (_, i) => last - i),
    );

    findings = {
      limit,
      count,
      waitingFull,
      refused,
      idle,
      full,
      fill,
      early,
      probesEarly,
      probesLate,
      admin,
      front,
      back,
    };
  } finally {
    // Killed outright: a graceful stop would answer 10,000 clones and wait for the task.
    await proxy?.kill();
    for (const socket of clients) socket.destroy();
    await double.stop();
  }

  options.log(`queue scale: a bare Node.js HTTP server holding ${formatNumber(count)} requests`);
  return describe({ ...findings, floor: await measureNodeFloor(count) });
}

/** What Node's own HTTP server costs for the same waiting requests, bodies read, nothing else. */
async function measureNodeFloor(
  count: number,
): Promise<{ idle: ProcessMemory; full: ProcessMemory }> {
  const holder = await startBenchChild('node-holder', { execArgv: ['--expose-gc'] });
  const clients: Socket[] = [];
  try {
    const port = Number(new URL(String(holder.ready.url)).port);
    const idle = await holder.call<ProcessMemory>('memory');
    for (let from = 0; from < count; from += BATCH) {
      const to = Math.min(count, from + BATCH);
      for (let i = from; i < to; i++) clients.push(openClone(port, FIRST_NEWID + i, () => {}));
      await until(async () => (await holder.call<number>('waiting')) >= to, 30_000);
    }
    return { idle, full: await holder.call<ProcessMemory>('memory') };
  } finally {
    await holder.kill();
    for (const socket of clients) socket.destroy();
  }
}

function readFileLimit(): number {
  const shell = spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' });
  const value = Number(shell.stdout.trim());
  return Number.isFinite(value) ? value : 1024;
}

function openClone(port: number, newid: number, onAnswer: () => void): Socket {
  const body = `newid=${newid}&full=1`;
  const socket = connect(port, '127.0.0.1', () => {
    socket.write(
      [
        'POST /api2/json/nodes/pve1/lxc/9000/clone HTTP/1.1',
        `Host: 127.0.0.1:${port}`,
        `Authorization: ${TOKEN}`,
        'Content-Type: application/x-www-form-urlencoded',
        `Content-Length: ${body.length}`,
        'Connection: close',
        '',
        body,
      ].join('\r\n'),
    );
  });
  socket.once('data', onAnswer);
  socket.on('error', () => undefined);
  return socket;
}

/** Monotonic nanoseconds, comparable between processes on one machine. */
function now(): bigint {
  return process.hrtime.bigint();
}

/** Send clones one at a time; each one's time from connect to `queued` in the proxy. */
async function probe(proxy: BenchChild, count: number, openOne: () => void): Promise<number[]> {
  const times: number[] = [];
  await proxy.call('trace', true);
  try {
    for (let i = 0; i < count; i++) {
      const queued = nextEvent(proxy, 'queued');
      const startedAt = now();
      openOne();
      const at = await queued;
      times.push(Number(at - startedAt) / 1e6);
    }
  } finally {
    await proxy.call('trace', false);
  }
  return times;
}

/** Close these clients' connections one at a time; each one's time until `withdrawn`. */
async function dropWaiters(proxy: BenchChild, clients: Socket[], positions: number[]) {
  const times: number[] = [];
  await proxy.call('trace', true);
  try {
    for (const position of positions) {
      const withdrawn = nextEvent(proxy, 'withdrawn');
      const startedAt = now();
      clients[position].destroy();
      const at = await withdrawn;
      times.push(Number(at - startedAt) / 1e6);
    }
  } finally {
    await proxy.call('trace', false);
  }
  return { positions, times };
}

const listeners = new WeakMap<BenchChild, Map<string, ((at: bigint) => void)[]>>();

/** The monotonic time of the child's next `name` event. */
function nextEvent(child: BenchChild, name: string, timeoutMs = 10_000): Promise<bigint> {
  let waiting = listeners.get(child);
  if (!waiting) {
    const fresh = new Map<string, ((at: bigint) => void)[]>();
    child.onEvent((event, data) => {
      const queue = fresh.get(event) ?? [];
      queue.shift()?.(BigInt(String(data.at)));
    });
    listeners.set(child, fresh);
    waiting = fresh;
  }
  const queue = waiting.get(name) ?? [];
  waiting.set(name, queue);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no ${name} event in ${timeoutMs} ms`)),
      timeoutMs,
    );
    queue.push((at) => {
      clearTimeout(timer);
      resolve(at);
    });
  });
}

async function until(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(50);
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

interface Findings {
  limit: number;
  count: number;
  waitingFull: number;
  refused: number;
  idle: ProcessMemory;
  full: ProcessMemory;
  fill: { upTo: number; msPerClone: number }[];
  early: number;
  probesEarly: number[];
  probesLate: number[];
  admin: { path: string; status: number; bytes: number; medianMs: number; maxMs: number }[];
  front: { positions: number[]; times: number[] };
  back: { positions: number[]; times: number[] };
  /** The bare Node.js HTTP server holding as many requests. */
  floor: { idle: ProcessMemory; full: ProcessMemory };
}

function describe(f: Findings): Section {
  const mib = (bytes: number) => bytes / 1_048_576;
  const rssAbove = mib(f.full.rssBytes - f.idle.rssBytes);
  const heapAbove = mib(f.full.heapUsedBytes - f.idle.heapUsedBytes);
  const floorRss = mib(f.floor.full.rssBytes - f.floor.idle.rssBytes);
  const floorHeap = mib(f.floor.full.heapUsedBytes - f.floor.idle.heapUsedBytes);
  const fillEarly = f.fill.filter((batch) => batch.upTo <= f.early);
  const fillLate = f.fill.slice(-2);
  const meanOf = (batches: typeof f.fill) =>
    batches.reduce((sum, b) => sum + b.msPerClone, 0) / Math.max(1, batches.length);
  const adminWorst = Math.max(
    ...f.admin.filter((a) => a.path !== '/_clone-proxy/queue').map((a) => a.maxMs),
  );
  const ms = (value: number) => `${formatNumber(value, 2)} ms`;

  const table: Table = {
    head: [
      'figure',
      `at ~${formatNumber(f.early)} waiting`,
      `at ${formatNumber(f.waitingFull)} waiting`,
      'goal',
    ],
    rows: [
      [
        'proxy memory above idle: RSS (heap)',
        '',
        `${formatNumber(rssAbove, 1)} MiB (${formatNumber(heapAbove, 1)} MiB)`,
        `≤ ${GOALS.memoryMiB} MiB RSS: ${formatVerdict(rssAbove <= GOALS.memoryMiB)}`,
      ],
      [
        'bare Node.js HTTP server holding as many requests, above idle: RSS (heap)',
        '',
        `${formatNumber(floorRss, 1)} MiB (${formatNumber(floorHeap, 1)} MiB)`,
        'calibration',
      ],
      [
        `enqueue one clone, connect to queued: median (p95) of ${PROBES}`,
        `${ms(median(f.probesEarly))} (${ms(percentile(f.probesEarly, 95))})`,
        `${ms(median(f.probesLate))} (${ms(percentile(f.probesLate, 95))})`,
        'flat',
      ],
      [
        `enqueue in batches of ${BATCH}: time per clone`,
        ms(meanOf(fillEarly)),
        ms(meanOf(fillLate)),
        'flat',
      ],
      [
        `drop a waiter whose client left: median (max) of ${f.front.times.length}`,
        `position ${f.front.positions[0]}–${f.front.positions.at(-1)}: ${ms(median(f.front.times))} (${ms(Math.max(...f.front.times))})`,
        `position ${f.back.positions.at(-1)}–${f.back.positions[0]}: ${ms(median(f.back.times))} (${ms(Math.max(...f.back.times))})`,
        'independent of position',
      ],
      ...f.admin.map((a) => [
        `GET ${a.path} (HTTP ${a.status}, ${formatNumber(a.bytes / 1024, 0)} KiB): median (max) of 5`,
        '',
        `${ms(a.medianMs)} (${ms(a.maxMs)})`,
        a.path === '/_clone-proxy/queue'
          ? 'none set'
          : `< ${GOALS.adminMs} ms: ${formatVerdict(a.status === 200 && a.maxMs < GOALS.adminMs)}`,
      ]),
    ],
  };

  const reading = [
    `${formatNumber(f.waitingFull)} clones waited behind one running clone, ${formatNumber(f.full.rssBytes / 1_048_576, 0)} MiB RSS in all: about ${formatNumber((f.full.rssBytes - f.idle.rssBytes) / f.waitingFull / 1024, 1)} KiB per waiting clone, its socket, request and job included (heap measured after a full GC, RSS as the OS sees it).`,
    `A bare Node.js HTTP server that only reads each request and keeps its response open needs ${formatNumber(floorRss, 1)} MiB above idle for the same ${formatNumber(f.count)} requests (${formatNumber((floorRss * 1024) / f.count, 1)} KiB each): Node's socket, parser, request and response objects. The proxy adds ${formatNumber(rssAbove - floorRss, 1)} MiB (${formatNumber(((rssAbove - floorRss) * 1024) / f.count, 1)} KiB per clone) for the job, its parameters, headers and digest. A goal of ${GOALS.memoryMiB} MiB lies below what Node's HTTP server alone needs; meeting it would take a server that does not keep Node's per-request objects, that is, HTTP parsing of our own.`,
    `Metrics and status answered in at most ${ms(adminWorst)} with the queue full.`,
  ];
  if (f.count < WANTED) {
    reading.unshift(
      `The open-file limit here is ${f.limit} (\`ulimit -n\`), so the queue held ${formatNumber(f.count)} clones, not ${formatNumber(WANTED)}; raise it to measure the full size.`,
    );
  }
  if (f.refused > 0)
    reading.push(`${f.refused} clone(s) got an answer while they should have waited.`);
  return {
    title: 'A full queue',
    method: `Proxy with \`CLONE_PROXY_QUEUE_SIZE=${f.count}\` in front of a double whose first clone task runs for 10 minutes, so nothing finishes; ${formatNumber(f.count)} more clones sent from another process, each on its own connection with \`Connection: close\`, ${BATCH} at a time. Enqueue and drop times run from this process to the proxy's \`queued\` / \`withdrawn\` event (both processes read the same monotonic clock).`,
    tables: [table],
    reading,
  };
}
