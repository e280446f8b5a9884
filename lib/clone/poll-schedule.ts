import type { DurationEstimate } from './task-durations';

/** How long to wait before the next status poll, given the time since the task started. */
export type PollSchedule = (elapsedMs: number) => number;

/** Densest polling: PVE answers a status poll in a few milliseconds. */
export const MIN_POLL_MS = 20;
/**
 * Knowing nothing, a task's end is seen within this long, or within `UNKNOWN_SHARE` of its
 * run time once that is longer (past 10 s): five polls a second for short tasks, fewer for
 * long ones. PVE's clone tasks take a second or more, so the first poll waits a little longer.
 */
export const UNKNOWN_POLL_MS = 200;
export const UNKNOWN_SHARE = 0.02;
const UNKNOWN_FIRST_POLL_MS = 300;
/** Polls inside the expected window: more see the end sooner, fewer cost PVE less. */
const POLLS_PER_WINDOW = 4;
/**
 * Past the expected window each wait is this share of the time since the window closed (so
 * the waits grow geometrically), up to the pace for a task of unknown length.
 */
const LATE_GROWTH = 0.5;

/**
 * The fixed schedule polls every `intervalMs`. The adaptive ones never wait longer than that
 * either, but:
 * - knowing nothing, they poll at 300 ms and then every 200 ms, or every 2 % of the time the
 *   task has run so far once that is longer;
 * - knowing the window in which recent tasks of this kind ended (`TaskDurations`), they wait
 *   for it, poll four times across it (never more densely than knowing nothing would), and back
 *   off again if the task runs late.
 * Which costs PVE about two polls per second of task time, most of them on the first task of
 * each kind, and sees most stops within a few tens of milliseconds (docs/benchmarks.md).
 */
export function createPollSchedule(
  intervalMs: number,
  adaptive: boolean,
  expected?: DurationEstimate,
): PollSchedule {
  if (!adaptive) return () => intervalMs;

  const floor = Math.min(MIN_POLL_MS, intervalMs);
  const bound = (ms: number) => Math.max(Math.min(ms, intervalMs), floor);
  const unknownPace = (elapsedMs: number) => Math.max(UNKNOWN_POLL_MS, elapsedMs * UNKNOWN_SHARE);
  if (!expected) {
    return (elapsedMs) =>
      bound(
        elapsedMs < UNKNOWN_FIRST_POLL_MS
          ? UNKNOWN_FIRST_POLL_MS - elapsedMs
          : unknownPace(elapsedMs),
      );
  }

  // A window wider than a second (tasks of a kind that vary a lot) is polled no more densely
  // than a task of unknown length: learning must never cost more than knowing nothing.
  const { earliestMs, latestMs } = expected;
  const dense = Math.min((latestMs - earliestMs) / POLLS_PER_WINDOW, unknownPace(earliestMs));
  return (elapsedMs) => {
    // First poll one dense step into the window: at its very start the task is likely running.
    const firstInWindow = earliestMs + dense;
    if (elapsedMs < firstInWindow - floor) return bound(firstInWindow - elapsedMs);
    if (elapsedMs <= latestMs) return bound(dense);

    const lateMs = Math.max(dense, (elapsedMs - latestMs) * LATE_GROWTH);
    return bound(Math.min(lateMs, unknownPace(elapsedMs)));
  };
}
