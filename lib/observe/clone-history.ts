import type { CloneFinish } from '../clone/clone-events';
import type { CloneJob } from '../clone/clone-job';
import { type CloneOutcomeClass, classifyFinish } from './clone-outcome';
import {
  type CloneSummary,
  type LaneSnapshot,
  type ObservedProxy,
  snapshotLane,
  summarizeJob,
} from './lane-view';

/** A clone that has left its lane: ended after being sent, or withdrawn before its turn. */
export interface FinishedClone extends CloneSummary {
  outcome: CloneOutcomeClass | 'withdrawn';
  /** Why a withdrawn clone left: `client-gone`, `queue-timeout` or `shutdown`. */
  reason?: string;
  upid?: string;
  exitstatus?: string;
  /** PVE's HTTP status for the clone POST, or the proxy's own on an upstream failure. */
  status?: number;
  waitMs: number;
  taskMs?: number;
  finishedAt: string;
}

/** What `/_clone-proxy/queue` answers. */
export interface QueueSnapshot {
  at: string;
  closing: boolean;
  lanes: LaneSnapshot[];
  /** Newest first. */
  finished: FinishedClone[];
}

export interface CloneHistory {
  snapshot(): QueueSnapshot;
}

const DEFAULT_LIMIT = 50;

/**
 * Remember the last clones that finished, fed by the proxy's events. What is queued or running
 * is read from the lanes at each snapshot and never copied here: the lanes own that state. The
 * only thing kept per running clone is its UPID, which the lanes do not know.
 */
export function createCloneHistory(proxy: ObservedProxy, limit = DEFAULT_LIMIT): CloneHistory {
  const finished: FinishedClone[] = [];
  const upids = new WeakMap<CloneJob, string>();

  const remember = (entry: FinishedClone) => {
    finished.unshift(entry);
    if (finished.length > limit) finished.length = limit;
  };

  proxy.events.on('taskStarted', (job, upid) => upids.set(job, upid));

  proxy.events.on('finished', (finish: CloneFinish) => {
    remember({
      ...summarizeJob(finish.job),
      outcome: classifyFinish(finish),
      upid: finish.upid,
      exitstatus: finish.exitstatus,
      status: finish.status,
      waitMs: finish.waitMs,
      taskMs: finish.taskMs,
      finishedAt: new Date().toISOString(),
    });
  });

  proxy.events.on('withdrawn', (job, reason) => {
    remember({
      ...summarizeJob(job),
      outcome: 'withdrawn',
      reason,
      waitMs: Date.now() - job.enqueuedAt,
      finishedAt: new Date().toISOString(),
    });
  });

  return {
    snapshot() {
      const now = Date.now();
      return {
        at: new Date(now).toISOString(),
        closing: proxy.lanes.closing,
        lanes: proxy.lanes.list().map((lane) => snapshotLane(lane, now, (job) => upids.get(job))),
        finished: [...finished],
      };
    },
  };
}
