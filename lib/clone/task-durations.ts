/**
 * When tasks of one kind ended, as milliseconds after their watch began: the window in which
 * the next one is expected to end.
 */
export interface DurationEstimate {
  earliestMs: number;
  latestMs: number;
  samples: number;
}

/** Ends remembered per kind: enough to see the spread, few enough to follow a change. */
const KEPT_ENDS = 6;
const MAX_KINDS = 1000;
/** A sighting this much wider than the sharpest one is too coarse to bound the window. */
const COARSE_FACTOR = 2;
const SHARP_ENOUGH_MS = 50;
/** Tasks of one kind vary at least this much, whatever few of them were seen. */
const MIN_SPREAD_SHARE = 0.02;

/** One task's end: after the last poll that saw it running, before the one that saw it stopped. */
interface Sighting {
  afterMs: number;
  beforeMs: number;
}

/**
 * How long clone tasks of one kind (same node, source, full or linked, target storage) took.
 * Clones of one template on one storage take about as long as each other, so the next one
 * can be polled densely only inside the window where the recent ones ended.
 */
export class TaskDurations {
  private readonly kinds = new Map<string, Sighting[]>();

  /**
   * The window spans the sharp sightings only: the first task of a kind is seen while nothing
   * is known and polls are sparse, and its wide sighting would keep every later window wide.
   */
  estimate(kind: string): DurationEstimate | undefined {
    const sightings = this.kinds.get(kind);
    if (!sightings) return undefined;

    const sharpest = Math.min(...sightings.map(widthOf));
    const limit = Math.max(sharpest * COARSE_FACTOR, SHARP_ENOUGH_MS);
    const sharp = sightings.filter((s) => widthOf(s) <= limit);
    const ends = sharp.map((s) => (s.afterMs + s.beforeMs) / 2);
    const first = Math.min(...ends);
    const last = Math.max(...ends);
    const margin = marginOf(ends, sharpest);
    let earliestMs = first - margin;
    let latestMs = last + margin;

    // A coarse sighting that lies outside the sharp ends still says something: a task seen
    // stopped at the first poll of its window, with no running poll inside it, ended earlier
    // than the window foresaw (tasks got faster); one last seen running past the window ended
    // later. The window stretches that way, so the next task of the kind is seen sharply
    // again instead of late every time.
    const width = latestMs - earliestMs;
    for (const coarse of sightings.filter((s) => widthOf(s) > limit)) {
      if (coarse.afterMs < earliestMs && coarse.beforeMs <= last) {
        earliestMs = Math.min(earliestMs, Math.max(coarse.afterMs, coarse.beforeMs - width));
      }
      if (coarse.afterMs > latestMs) latestMs = Math.max(latestMs, coarse.beforeMs);
    }
    return { earliestMs: Math.max(0, earliestMs), latestMs, samples: sightings.length };
  }

  /** Record a task that ended between `afterMs` (last seen running) and `beforeMs` (seen stopped). */
  record(kind: string, afterMs: number, beforeMs = afterMs): void {
    // One NaN would make every window, and so every wait, NaN: a 1 ms timer polling PVE.
    if (!Number.isFinite(afterMs) || !Number.isFinite(beforeMs)) return;

    let sightings = this.kinds.get(kind);
    if (!sightings) {
      if (this.kinds.size >= MAX_KINDS) this.kinds.delete(this.kinds.keys().next().value as string);
      sightings = [];
      this.kinds.set(kind, sightings);
    }

    sightings.push({ afterMs, beforeMs: Math.max(afterMs, beforeMs) });
    if (sightings.length > KEPT_ENDS) sightings.shift();
  }
}

function widthOf(sighting: Sighting): number {
  return sighting.beforeMs - sighting.afterMs;
}

/**
 * How far past the seen ends the next one may fall. A few ends drawn from a spread cover less
 * than all of it (n of them cover (n-1)/(n+1) of an even spread), and each end is itself only
 * known to within its sighting.
 */
function marginOf(ends: number[], sharpestMs: number): number {
  const range = Math.max(...ends) - Math.min(...ends);
  const unseen = ends.length > 1 ? range / (ends.length - 1) : 0;
  const mean = ends.reduce((sum, end) => sum + end, 0) / ends.length;
  return Math.max(unseen, sharpestMs / 2, mean * MIN_SPREAD_SHARE);
}
