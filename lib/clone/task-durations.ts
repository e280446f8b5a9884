/** What the proxy expects of a clone task's duration, learned from earlier ones. */
export interface DurationEstimate {
  meanMs: number;
  /** Mean absolute deviation from `meanMs`. */
  deviationMs: number;
  samples: number;
}

const WEIGHT = 0.3;
const MAX_KINDS = 1000;

/**
 * How long clone tasks of one kind (same node, source, full or linked, target storage) took,
 * as moving averages. Clones of one template on one storage take about as long as each other,
 * so the next one can be polled densely only around its expected end.
 */
export class TaskDurations {
  private readonly kinds = new Map<string, DurationEstimate>();

  estimate(kind: string): DurationEstimate | undefined {
    return this.kinds.get(kind);
  }

  /**
   * Record a task that ended between `afterMs` (last seen running) and `beforeMs` (seen
   * stopped). The midpoint is the sample; half the interval is how unsure it is, so a first
   * task seen late (while nothing was known and polls were sparse) gives a wide estimate that
   * later, densely polled tasks narrow down.
   */
  record(kind: string, afterMs: number, beforeMs = afterMs): void {
    const sample = (afterMs + beforeMs) / 2;
    const unsure = (beforeMs - afterMs) / 2;
    const known = this.kinds.get(kind);
    if (!known) {
      if (this.kinds.size >= MAX_KINDS) this.kinds.delete(this.kinds.keys().next().value as string);
      this.kinds.set(kind, {
        meanMs: sample,
        deviationMs: Math.max(unsure, sample * 0.02),
        samples: 1,
      });
      return;
    }

    const deviation = Math.abs(sample - known.meanMs) + unsure;
    known.meanMs += WEIGHT * (sample - known.meanMs);
    known.deviationMs += WEIGHT * (deviation - known.deviationMs);
    known.samples += 1;
  }
}
