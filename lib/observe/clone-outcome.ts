import type { CloneFinish } from '../clone/clone-events';

/** How a finished clone ended, as an operator counts it. */
export type CloneOutcomeClass =
  | 'ok'
  | 'warnings'
  | 'failed'
  | 'refused'
  | 'unknown'
  | 'running'
  | 'upstream-error';

export const OUTCOME_CLASSES: readonly CloneOutcomeClass[] = [
  'ok',
  'warnings',
  'failed',
  'refused',
  'unknown',
  'running',
  'upstream-error',
];

// The statuses the proxy itself gives an upstream failure (lib/errors.ts, ERROR_STATUS).
const UPSTREAM_ERROR_STATUSES = new Set([502, 504]);

/**
 * Sort a finished clone into one class. A task that stopped is judged by its exitstatus
 * (pve-common UPID.pm, read_status): `OK`, `WARNINGS: <n>` (still a success), or the error text.
 *
 * @example
 * classifyFinish({ outcome: 'stopped', exitstatus: 'WARNINGS: 2', status: 200 }) // 'warnings'
 */
export function classifyFinish(
  finish: Pick<CloneFinish, 'outcome' | 'exitstatus' | 'status' | 'upid'>,
): CloneOutcomeClass {
  if (finish.outcome === 'stopped') return classifyExitstatus(finish.exitstatus);
  if (finish.outcome === 'running') return 'running';
  if (finish.outcome === 'unknown') return 'unknown';

  // TODO: CloneFinish carries no error code, so a clone whose answer came from the proxy after
  // an upstream failure is told from a PVE refusal by status alone; a 502/504 from PVE itself
  // (or from a proxy in front of it) is then counted as upstream-error, not refused.
  const fromProxy = finish.upid === undefined && UPSTREAM_ERROR_STATUSES.has(finish.status);
  return fromProxy ? 'upstream-error' : 'refused';
}

export function classifyExitstatus(exitstatus: string | undefined): CloneOutcomeClass {
  if (exitstatus === 'OK') return 'ok';
  if (exitstatus !== undefined && /^WARNINGS: \d+$/.test(exitstatus)) return 'warnings';
  return 'failed';
}
