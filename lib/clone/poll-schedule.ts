import type { DurationEstimate } from './task-durations';

/** How long to wait before the next status poll, given the time since the task started. */
export type PollSchedule = (elapsedMs: number) => number;

/** Shortest wait between polls: PVE answers a status poll in a few milliseconds. */
export const DENSE_INTERVAL_MS = 40;
const FIRST_POLL_MS = 100;
const GROWTH = 0.5;

/**
 * The fixed schedule polls every `intervalMs`. The adaptive one never waits longer than that
 * either, but:
 * - knowing nothing, it polls soon and then backs off geometrically (short tasks end early);
 * - knowing how long tasks of this kind took, it polls rarely until shortly before the
 *   expected end, densely around it, and backs off again if the task runs late.
 * A stopped task is then seen within tens of milliseconds at about one or two polls per
 * second of task time.
 */
export function createPollSchedule(
  intervalMs: number,
  adaptive: boolean,
  expected?: DurationEstimate,
): PollSchedule {
  if (!adaptive) return () => intervalMs;

  const cap = (ms: number) =>
    Math.max(Math.min(ms, intervalMs), Math.min(DENSE_INTERVAL_MS, intervalMs));
  if (!expected)
    return (elapsedMs) =>
      cap(elapsedMs < FIRST_POLL_MS ? FIRST_POLL_MS - elapsedMs : elapsedMs * GROWTH);

  const margin = Math.max(3 * expected.deviationMs, 0.02 * expected.meanMs, 100);
  const windowStart = expected.meanMs - margin;
  const windowEnd = expected.meanMs + margin;
  return (elapsedMs) => {
    if (elapsedMs < windowStart) return cap(windowStart - elapsedMs);
    if (elapsedMs <= windowEnd) return cap(DENSE_INTERVAL_MS);
    return cap((elapsedMs - windowEnd) * GROWTH);
  };
}
