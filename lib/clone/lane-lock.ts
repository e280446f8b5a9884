/** Held while one clone of a lane runs; released when its task has stopped. */
export interface LaneLease {
  /**
   * Note what runs under this lease (a dispatch mark, then the task's UPID), so that a later
   * owner can check it stopped. Resolves once stored; never rejects.
   */
  recordTask(record: string): Promise<void>;
  release(): Promise<void>;
}

export interface LaneLockWaiter {
  /** True once the clone no longer wants the lane (its clients left, or it was withdrawn). */
  isCancelled(): boolean;
  /**
   * Called when the previous owner of the lane vanished without releasing it (its lease ran
   * out) while a task it had recorded may still run: resolve once that task has stopped.
   */
  waitForTask(upid: string): Promise<void>;
}

/**
 * What keeps two clones of one lane apart across proxy processes. The in-process lock is
 * enough for one proxy (its lanes already run one clone at a time); a shared lock (Redis)
 * extends that to every proxy pointed at the same store.
 */
export interface LaneLock {
  /** Resolves with a lease, or undefined if the waiter was cancelled meanwhile; throws LaneLockUnavailable. */
  acquire(lane: string, waiter: LaneLockWaiter): Promise<LaneLease | undefined>;
  close(): Promise<void>;
}

const NO_LEASE: LaneLease = { recordTask: async () => {}, release: async () => {} };

/** One process, one owner per lane: the lane's own queue is the whole lock. */
export function createInProcessLaneLock(): LaneLock {
  return {
    acquire: async (_lane, waiter) => (waiter.isCancelled() ? undefined : NO_LEASE),
    close: async () => {},
  };
}
