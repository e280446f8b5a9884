import type { CloneEvents } from '../clone/clone-events';
import { type CloneJob, describeJob } from '../clone/clone-job';
import type { CloneLane } from '../clone/clone-lane';
import type { ProxyConfig } from '../config/proxy-config';

/** The read-only part of a lane that observers may use; nothing here can change the queue. */
export type LaneView = Pick<CloneLane, 'name' | 'waitingCount' | 'inFlight' | 'listWaiting'>;

/** What observers need from a proxy: its settings, its events, and a read-only look at lanes. */
export interface ObservedProxy {
  config: Readonly<ProxyConfig>;
  events: CloneEvents;
  lanes: { list(): readonly LaneView[]; readonly closing: boolean };
}

/** A clone as the queue page shows it: who asked for what, never credentials. */
export interface CloneSummary {
  requestId: string;
  node: string;
  vmid: string;
  newid?: string;
}

export interface InFlightClone extends CloneSummary {
  upid?: string;
  since: string;
  runningMs: number;
}

export interface WaitingClone extends CloneSummary {
  queuedAt: string;
  waitMs: number;
}

export interface LaneSnapshot {
  name: string;
  queueDepth: number;
  inFlight: InFlightClone | null;
  waiting: WaitingClone[];
}

export function summarizeJob(job: CloneJob): CloneSummary {
  const { newid } = describeJob(job);
  const summary: CloneSummary = {
    requestId: job.requestId,
    node: job.route.node,
    vmid: job.route.vmid,
  };
  if (typeof newid === 'string') summary.newid = newid;
  return summary;
}

/**
 * Copy one lane's state into plain data at `now`. The UPID of the clone in flight is not the
 * lane's to know, so the caller looks it up.
 */
export function snapshotLane(
  lane: LaneView,
  now: number,
  findUpid: (job: CloneJob) => string | undefined,
): LaneSnapshot {
  const running = lane.inFlight;
  const inFlight: InFlightClone | null = running
    ? {
        ...summarizeJob(running.job),
        upid: findUpid(running.job),
        since: new Date(running.since).toISOString(),
        runningMs: now - running.since,
      }
    : null;

  const waiting = lane.listWaiting().map((job) => ({
    ...summarizeJob(job),
    queuedAt: new Date(job.enqueuedAt).toISOString(),
    waitMs: now - job.enqueuedAt,
  }));

  return { name: lane.name, queueDepth: lane.waitingCount, inFlight, waiting };
}
