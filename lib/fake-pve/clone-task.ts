import type { Identity } from './auth';
import type { StorageState } from './cluster';
import type { FakeState } from './state';
import type { Task } from './tasks';
import type { FakeCloneInfo, FakeTaskRecord } from './types';

/** A started clone worker: the registry task, its public record and what the callbacks see. */
export interface CloneRun {
  task: Task;
  record: FakeTaskRecord;
  info: FakeCloneInfo;
  startedAt: number;
  durationMs: number;
}

export function startCloneRun(
  state: FakeState,
  type: 'vzclone' | 'qmclone',
  info: FakeCloneInfo,
  identity: Identity | undefined,
): CloneRun {
  // The task id is the source vmid, not the new one (pve-container API2/LXC.pm, fork_worker).
  const task = state.tasks.start(
    info.node,
    type,
    String(info.vmid),
    identity?.authid ?? 'root@pam',
  );
  const startedAt = Date.now();
  const record: FakeTaskRecord = {
    upid: task.upid,
    node: info.node,
    type,
    vmid: info.vmid,
    newid: info.newid,
    startedAt,
    params: info.params,
  };
  state.recorder.cloneTaskStarted(record);

  const durationMs = Math.max(0, state.options.taskDurationMs(info));
  return { task, record, info, startedAt, durationMs };
}

/** Sleeps until the task has run its configured duration. */
export function untilDuration(state: FakeState, run: CloneRun): Promise<void> {
  return state.timers.sleep(run.durationMs - (Date.now() - run.startedAt));
}

/**
 * Holds the storage lock for the allocation step at the start of a clone (pve-storage
 * Storage.pm, vdisk_alloc / vdisk_clone under cluster_lock_storage). Returns the lock error PVE
 * would print when the lock is not obtained in time, or undefined once it was held and released.
 */
export async function holdStorageLock(
  state: FakeState,
  storage: StorageState,
  node: string,
): Promise<string | undefined> {
  const key = storage.shared ? `cfs/${storage.id}` : `${node}/${storage.id}`;
  const acquired = await state.storageLocks.acquire(key, state.options.storageLockTimeoutMs);
  if (!acquired) {
    return storage.shared
      ? `cfs-lock 'storage-${storage.id}' error: got lock request timeout`
      : `can't lock file '/var/lock/pve-manager/pve-storage-${storage.id}' - got timeout`;
  }

  await state.timers.sleep(state.options.storageLockMs);
  state.storageLocks.release(key);
  return undefined;
}

/** Marks the task stopped; callers must have cleaned up their locks before. */
export function endCloneRun(state: FakeState, run: CloneRun, exitstatus: string): void {
  state.tasks.finish(run.task, exitstatus);
  run.record.endedAt = Date.now();
  run.record.exitstatus = run.task.exitstatus;
  state.recorder.cloneTaskEnded(run.record);
}
