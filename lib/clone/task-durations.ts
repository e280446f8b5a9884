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

  record(kind: string, durationMs: number): void {
    const known = this.kinds.get(kind);
    if (!known) {
      if (this.kinds.size >= MAX_KINDS) this.kinds.delete(this.kinds.keys().next().value as string);
      this.kinds.set(kind, { meanMs: durationMs, deviationMs: durationMs * 0.1, samples: 1 });
      return;
    }

    const deviation = Math.abs(durationMs - known.meanMs);
    known.meanMs += WEIGHT * (durationMs - known.meanMs);
    known.deviationMs += WEIGHT * (deviation - known.deviationMs);
    known.samples += 1;
  }
}
