/**
 * Every timer of the double goes through one set, so that `close()` can clear them all and no
 * pending task or delayed answer keeps the event loop (and mocha) alive.
 */
export interface TimerSet {
  after(ms: number, run: () => void): void;
  /** Resolves after ms; never resolves once the set is cleared. */
  sleep(ms: number): Promise<void>;
  clearAll(): void;
}

export function createTimerSet(): TimerSet {
  const pending = new Set<NodeJS.Timeout>();
  let cleared = false;

  function after(ms: number, run: () => void): void {
    if (cleared) return;

    const timer = setTimeout(
      () => {
        pending.delete(timer);
        run();
      },
      Math.max(0, ms),
    );
    pending.add(timer);
  }

  return {
    after,
    sleep: (ms) => new Promise((resolve) => after(ms, resolve)),
    clearAll() {
      cleared = true;
      for (const timer of pending) clearTimeout(timer);
      pending.clear();
    },
  };
}
