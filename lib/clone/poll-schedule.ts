import type { DurationEstimate } from './task-durations';

/** How long to wait before the next status poll, given the time since the task started. */
export type PollSchedule = (elapsedMs: number) => number;

/** Densest polling: PVE answers a status poll in a few milliseconds. */
export const MIN_POLL_MS = 25;
/** Sparsest polling once a task runs past what was expected, or when nothing is known. */
export const LATE_POLL_CAP_MS = 400;
const FIRST_POLL_MS = 100;
const GROWTH = 0.5;

/**
 * The fixed schedule polls every `intervalMs`. The adaptive one never waits longer than that
 * either, but:
 * - knowing nothing, it polls after 100 ms and then backs off by half the elapsed time, up to
 *   400 ms: short tasks are seen soon, long ones cost a few polls a second;
 * - knowing how long tasks of this kind took, it polls rarely until shortly before the
 *   expected end, a handful of times around it, and backs off again if the task runs late.
 * A stopped task is then seen within tens of milliseconds at about one or two polls per
 * second of task time.
 */
export function createPollSchedule(
  intervalMs: number,
  adaptive: boolean,
  expected?: DurationEstimate,
): PollSchedule {
  if (!adaptive) return () => intervalMs;

  const late = Math.min(intervalMs, LATE_POLL_CAP_MS);
  const cap = (ms: number, upper: number) =>
    Math.max(Math.min(ms, upper), Math.min(MIN_POLL_MS, intervalMs));
  if (!expected) {
    return (elapsedMs) =>
      cap(elapsedMs < FIRST_POLL_MS ? FIRST_POLL_MS - elapsedMs : elapsedMs * GROWTH, late);
  }

  // About four polls inside the window around the expected end, however wide it is.
  const margin = Math.max(2 * expected.deviationMs, 0.015 * expected.meanMs, 60);
  const dense = Math.min(Math.max(margin / 2, MIN_POLL_MS), 100);
  const windowStart = expected.meanMs - margin;
  const windowEnd = expected.meanMs + margin;
  return (elapsedMs) => {
    if (elapsedMs < windowStart) return cap(windowStart - elapsedMs, intervalMs);
    if (elapsedMs <= windowEnd) return cap(dense, intervalMs);
    return cap((elapsedMs - windowEnd) * GROWTH, late);
  };
}
