import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

import type { RefusalReason } from '../clone/clone-events';
import { classifyFinish, OUTCOME_CLASSES } from './clone-outcome';
import type { ObservedProxy } from './lane-view';

export interface CloneMetricsOptions {
  /** Also collect prom-client's process metrics (CPU, memory, event loop); default true. */
  defaultMetrics?: boolean;
}

const PREFIX = 'pve_clone_proxy_';
const REFUSAL_REASONS: readonly RefusalReason[] = [
  'queue-full',
  'queue-timeout',
  'shutting-down',
  'body-too-large',
  'lock-unavailable',
  'no-credentials',
  'format-unsupported',
];
// Clones wait for each other, so waits reach the length of a whole queue of tasks.
const WAIT_BUCKETS = [0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600];
// A full clone of a large template copies whole disks: minutes are normal.
const TASK_BUCKETS = [1, 2, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600];

/**
 * A Prometheus registry of its own for one proxy, fed by its events, with queue gauges read
 * from its lanes at scrape time. One registry per proxy, so that several proxies (or tests)
 * in one process never share series.
 *
 * @example
 * const registry = createCloneMetrics(pve);
 * res.type(registry.contentType).send(await registry.metrics());
 */
export function createCloneMetrics(
  proxy: ObservedProxy,
  options: CloneMetricsOptions = {},
): Registry {
  const registry = new Registry();
  const registers = [registry];
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });

  // queue state, read from the lanes at scrape time
  new Gauge({
    name: `${PREFIX}queue_depth`,
    help: 'Clones waiting in the lane, not counting the one in flight.',
    labelNames: ['lane'],
    registers,
    collect() {
      this.reset();
      for (const lane of proxy.lanes.list()) this.set({ lane: lane.name }, lane.waitingCount);
    },
  });
  new Gauge({
    name: `${PREFIX}clones_in_flight`,
    help: 'Clones sent to PVE whose task has not yet stopped (0 or 1 per lane).',
    labelNames: ['lane'],
    registers,
    collect() {
      this.reset();
      for (const lane of proxy.lanes.list()) this.set({ lane: lane.name }, lane.inFlight ? 1 : 0);
    },
  });

  // what happened, from events
  const queued = new Counter({
    name: `${PREFIX}clones_queued_total`,
    help: 'Clones taken into a lane.',
    labelNames: ['lane'],
    registers,
  });
  const waitSeconds = new Histogram({
    name: `${PREFIX}clone_wait_seconds`,
    help: 'Time a clone waited in its lane before it was sent to PVE.',
    labelNames: ['lane'],
    buckets: WAIT_BUCKETS,
    registers,
  });
  const taskSeconds = new Histogram({
    name: `${PREFIX}clone_task_seconds`,
    help: 'Time from sending a clone until its PVE task stopped or was given up.',
    labelNames: ['lane'],
    buckets: TASK_BUCKETS,
    registers,
  });
  const finished = new Counter({
    name: `${PREFIX}clones_finished_total`,
    help: 'Clones sent to PVE, by how they ended.',
    labelNames: ['outcome'],
    registers,
  });
  const rejections = new Counter({
    name: `${PREFIX}rejections_total`,
    help: 'Clones the proxy answered itself without sending them, by reason.',
    labelNames: ['reason'],
    registers,
  });
  const withdrawn = new Counter({
    name: `${PREFIX}withdrawn_total`,
    help: 'Clones taken out of a lane before their turn, by reason.',
    labelNames: ['reason'],
    registers,
  });
  const pollErrors = new Counter({
    name: `${PREFIX}poll_errors_total`,
    help: 'Failed task status polls: transient (network, 5xx) or refused (4xx).',
    labelNames: ['kind'],
    registers,
  });
  const joined = new Counter({
    name: `${PREFIX}joined_total`,
    help: 'Identical clone requests that joined one already queued or running.',
    registers,
  });

  // Known label values start at 0, so a rate over a quiet period is 0 rather than absent.
  for (const outcome of OUTCOME_CLASSES) finished.inc({ outcome }, 0);
  for (const reason of REFUSAL_REASONS) rejections.inc({ reason }, 0);
  for (const reason of ['client-gone', 'queue-timeout', 'shutdown']) withdrawn.inc({ reason }, 0);
  for (const kind of ['transient', 'refused']) pollErrors.inc({ kind }, 0);
  joined.inc(0);

  proxy.events.on('queued', (_job, lane) => queued.inc({ lane: lane.name }));
  proxy.events.on('joined', () => joined.inc());
  proxy.events.on('refused', (reason) => rejections.inc({ reason }));
  proxy.events.on('withdrawn', (_job, reason) => withdrawn.inc({ reason }));
  proxy.events.on('pollFailed', (_job, kind) => pollErrors.inc({ kind }));
  proxy.events.on('finished', (finish) => {
    const lane = finish.lane.name;
    finished.inc({ outcome: classifyFinish(finish) });
    waitSeconds.observe({ lane }, finish.waitMs / 1000);
    if (finish.upid !== undefined) taskSeconds.observe({ lane }, finish.taskMs / 1000);
  });

  return registry;
}
