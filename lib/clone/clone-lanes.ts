import { setTimeout as sleep } from 'node:timers/promises';

import { ProxyError } from '../errors';
import type { CloneContext } from './clone-context';
import { type CloneJob, describeJob } from './clone-job';
import { CloneLane } from './clone-lane';
import { createCloneRunner } from './clone-runner';
import { createInProcessLaneLock, type LaneLock } from './lane-lock';
import { createRefusalAnswer } from './refusal-answer';

/**
 * All lanes of one proxy and the rule that picks a job's lane (CLONE_PROXY_LANES):
 * - `global` (default): one lane. Full clones of different templates on one storage collide on
 *   PVE's storage lock inside the task (field report R03), so only this is safe without
 *   knowing the storages.
 * - `node`: one lane per node. Clones on different nodes run side by side; safe when nodes do
 *   not share the storage clones allocate on.
 * - `source`: one lane per node and source guest. Avoids only the source lock (`CT is locked
 *   (disk)`); clones of different templates still meet on a shared storage lock.
 */
export interface CloneLanes {
  laneFor(job: CloneJob): CloneLane;
  list(): CloneLane[];
  /** The queued or running job an identical clone may join, with its lane. */
  findActive(key: string): { job: CloneJob; lane: CloneLane } | undefined;
  /** True once shutdown began: no new jobs are taken. */
  readonly closing: boolean;
  /**
   * Stop taking jobs, answer every waiting one with 503 (never sent), and wait up to
   * `timeoutMs` for the clones in flight. Resolves with what was still running at the end.
   */
  shutdown(timeoutMs: number): Promise<{ withdrawn: number; unfinished: CloneJob[] }>;
}

export function createCloneLanes(
  context: CloneContext,
  lock: LaneLock = createInProcessLaneLock(),
): CloneLanes {
  const runner = createCloneRunner(context);
  const lanes = new Map<string, CloneLane>();
  let closing = false;

  // Per-node and per-source lanes come and go with their clones, so that odd node or vmid
  // segments cannot pile up lanes; the global lane stays.
  const forgetIdle = (lane: CloneLane) => {
    if (lane.name !== 'global' && lanes.get(lane.name) === lane) lanes.delete(lane.name);
  };
  const laneNamed = (name: string) => {
    let lane = lanes.get(name);
    if (!lane) {
      lane = new CloneLane(name, context.config.queueSize, runner, lock, forgetIdle);
      lanes.set(name, lane);
    }
    return lane;
  };
  if (context.config.lanes === 'global') laneNamed('global');

  return {
    laneFor: (job) => laneNamed(nameLane(job, context)),
    list: () => [...lanes.values()],
    findActive(key) {
      for (const lane of lanes.values()) {
        const job = lane.findActive(key);
        if (job) return { job, lane };
      }
      return undefined;
    },
    get closing() {
      return closing;
    },
    async shutdown(timeoutMs) {
      closing = true;
      let withdrawn = 0;
      for (const lane of lanes.values()) {
        for (const job of lane.listWaiting()) {
          if (!lane.withdraw(job)) continue;
          withdrawn += 1;
          answerShutdown(job, lane.estimateWaitSeconds());
          context.logger.warn('clone withdrawn: proxy shutting down', {
            ...describeJob(job),
            lane: lane.name,
          });
          context.events.emit('withdrawn', job, 'shutdown');
        }
      }

      const drained = Promise.all([...lanes.values()].map((lane) => lane.drained()));
      const timer = new AbortController();
      await Promise.race([
        drained,
        sleep(timeoutMs, undefined, { signal: timer.signal }).catch(() => {}),
      ]);
      timer.abort();

      const unfinished = [...lanes.values()].flatMap((lane) =>
        lane.inFlight ? [lane.inFlight.job] : [],
      );
      await lock.close();
      return { withdrawn, unfinished };
    },
  };
}

/** The lane a clone belongs to; `localhost` is read as the node the target answers as. */
function nameLane(job: CloneJob, context: CloneContext): string {
  const mode = context.config.lanes;
  if (mode === 'global') return 'global';

  const node =
    job.route.node === 'localhost' ? (context.localNode.known() ?? 'localhost') : job.route.node;
  return mode === 'node' ? `node/${node}` : `source/${node}/${job.route.vmid}`;
}

function answerShutdown(job: CloneJob, retryAfterSeconds: number): void {
  const error = new ProxyError(
    'CLONE_PROXY_SHUTTING_DOWN',
    'pve-clone-proxy: shutting down; clone not sent',
  );
  job.answer(createRefusalAnswer(job.route, job.requestId, error, retryAfterSeconds));
}
