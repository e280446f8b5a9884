import { EventEmitter } from 'node:events';

import type { ProxyErrorCode } from '../errors';
import type { CloneJob, TaskOutcome } from './clone-job';
import type { CloneLane } from './clone-lane';

/** Why a clone was answered by the proxy itself without being sent. */
export type RefusalReason =
  | 'queue-full'
  | 'queue-timeout'
  | 'shutting-down'
  | 'body-too-large'
  | 'lock-unavailable'
  | 'no-credentials'
  | 'format-unsupported';

/** How a clone's slot was released. */
export interface CloneFinish {
  job: CloneJob;
  lane: CloneLane;
  outcome: TaskOutcome;
  /** PVE's HTTP status for the clone POST, or the proxy's own on an upstream failure. */
  status: number;
  upid?: string;
  exitstatus?: string;
  waitMs: number;
  taskMs: number;
  /** Set when the client got the proxy's own error instead of PVE's answer. */
  error?: ProxyErrorCode;
}

/**
 * What happens to clones, for observers (metrics, status page, history). The clone part only
 * emits; nothing here can change a lane.
 */
export interface CloneEventMap {
  queued: [job: CloneJob, lane: CloneLane];
  joined: [job: CloneJob];
  refused: [reason: RefusalReason];
  withdrawn: [job: CloneJob, reason: 'client-gone' | 'queue-timeout' | 'shutdown'];
  started: [job: CloneJob, lane: CloneLane];
  taskStarted: [job: CloneJob, upid: string];
  pollFailed: [job: CloneJob, kind: 'transient' | 'refused'];
  finished: [finish: CloneFinish];
}

export class CloneEvents extends EventEmitter<CloneEventMap> {}
