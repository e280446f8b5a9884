import type { TimerSet } from './timers';

/**
 * The lock PVE takes around volume allocation and linked-clone creation (pve-storage Plugin.pm,
 * cluster_lock_storage): a node-local flock for local storages, a cluster-wide cfs lock for
 * shared ones. Waiters are served in order; one that waits longer than its timeout gives up.
 */
export interface StorageLocks {
  /** Resolves true once the lock is held, false if timeoutMs passed first. */
  acquire(key: string, timeoutMs: number): Promise<boolean>;
  release(key: string): void;
}

interface Waiter {
  settled: boolean;
  grant(): void;
}

export function createStorageLocks(timers: TimerSet): StorageLocks {
  const held = new Set<string>();
  const queues = new Map<string, Waiter[]>();

  return {
    acquire(key, timeoutMs) {
      if (!held.has(key)) {
        held.add(key);
        return Promise.resolve(true);
      }

      return new Promise((resolve) => {
        const waiter: Waiter = {
          settled: false,
          grant() {
            waiter.settled = true;
            resolve(true);
          },
        };
        const queue = queues.get(key) ?? [];
        queue.push(waiter);
        queues.set(key, queue);

        timers.after(timeoutMs, () => {
          if (waiter.settled) return;
          waiter.settled = true;
          queue.splice(queue.indexOf(waiter), 1);
          resolve(false);
        });
      });
    },

    release(key) {
      const next = queues.get(key)?.shift();
      if (next) next.grant();
      else held.delete(key);
    },
  };
}
