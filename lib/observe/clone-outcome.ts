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

/**
 * Sort a finished clone into one class. A task that stopped is judged by its exitstatus
 * (pve-common UPID.pm, read_status): `OK`, `WARNINGS: <n>` (still a success), or the error text.
 *
 * @example
 * classifyFinish({ outcome: 'stopped', exitstatus: 'WARNINGS: 2', status: 200 }) // 'warnings'
 */
export function classifyFinish(
  finish: Pick<CloneFinish, 'outcome' | 'exitstatus' | 'status' | 'error'>,
): CloneOutcomeClass {
  if (finish.error !== undefined) return 'upstream-error';
  if (finish.outcome === 'stopped') return classifyExitstatus(finish.exitstatus);
  if (finish.outcome === 'running') return 'running';
  if (finish.outcome === 'unknown') return 'unknown';
  return 'refused';
}

export function classifyExitstatus(exitstatus: string | undefined): CloneOutcomeClass {
  if (exitstatus === 'OK') return 'ok';
  if (exitstatus !== undefined && /^WARNINGS: \d+$/.test(exitstatus)) return 'warnings';
  return 'failed';
}
