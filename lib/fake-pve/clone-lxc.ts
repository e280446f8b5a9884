import {
  type CloneRun,
  endCloneRun,
  holdStorageLock,
  startCloneRun,
  untilDuration,
} from './clone-task';
import { type GuestState, rootVolume, type StorageState } from './cluster';
import { dieError } from './errors';
import { isPerlTrue } from './params';
import { DroppedReply, RawReply } from './replies';
import type { ApiHandler } from './router';
import { type Schema, type VerifiedParams, verifyParams } from './schema';
import type { FakeState } from './state';
import { isFailedExitStatus } from './tasks';

/** pve-container src/PVE/API2/LXC.pm, clone_vm: no additional properties. */
const LXC_CLONE_SCHEMA: Schema = {
  node: { type: 'string', format: 'pve-node' },
  vmid: { type: 'integer', format: 'pve-vmid' },
  newid: { type: 'integer', format: 'pve-vmid' },
  hostname: { type: 'string', format: 'dns-name', optional: true },
  description: { type: 'string', optional: true },
  pool: { type: 'string', format: 'pve-poolid', optional: true },
  snapname: { type: 'string', format: 'pve-configid', maxLength: 40, optional: true },
  storage: { type: 'string', format: 'pve-storage-id', optional: true },
  full: { type: 'boolean', optional: true },
  target: { type: 'string', format: 'pve-node', optional: true },
  bwlimit: { type: 'number', minimum: 0, optional: true },
};

/** What the synchronous part decided, handed to the worker. */
interface LxcClonePlan {
  source: GuestState;
  clone: GuestState;
  full: boolean;
  /** Where the new volume is allocated (and locked). */
  allocation: StorageState;
  target?: string;
  params: Record<string, string>;
}

/** `POST /nodes/{node}/lxc/{vmid}/clone`. */
export function createLxcCloneHandler(state: FakeState): ApiHandler {
  return async (call) => {
    const fault = state.faults.takeCloneFault();
    if (fault.answer) return new RawReply(fault.answer);
    if (fault.delayMs !== undefined) await state.timers.sleep(fault.delayMs);

    const plan = prepareClone(state, call.node, verifyParams(call.params, LXC_CLONE_SCHEMA));
    const run = startCloneRun(
      state,
      'vzclone',
      { node: call.node, vmid: plan.source.vmid, newid: plan.clone.vmid, params: plan.params },
      call.identity,
    );
    void runClone(state, plan, run);

    return fault.drop ? new DroppedReply() : run.task.upid;
  };
}

/**
 * Everything PVE does before forking the worker, in its order. Locks are taken here, so a second
 * clone of the same source fails at once with `CT is locked (disk)`.
 */
function prepareClone(state: FakeState, node: string, p: VerifiedParams): LxcClonePlan {
  const { cluster } = state;
  const { node: _node, vmid: _vmid, ...params } = p;

  if (p.pool !== undefined) cluster.verifyPool(p.pool);
  const target = p.target && p.target !== node && p.target !== 'localhost' ? p.target : undefined;
  if (target && !cluster.hasNode(target)) throw dieError(`no such cluster node '${target}'`);
  if (p.storage) {
    const storage = cluster.requireStorage(p.storage);
    if (target && !storage.shared) {
      throw dieError(`can't clone to non-shared storage '${p.storage}'`);
    }
  }

  // set_lock (pve-guest-common AbstractConfig.pm): any existing lock refuses the clone.
  const source = cluster.loadConfig(node, Number(p.vmid), 'lxc');
  if (source.lock) throw dieError(`CT is locked (${source.lock})`);
  source.lock = 'disk';

  // create_and_lock_config: the new id is taken now, with a `create` placeholder.
  const newid = Number(p.newid);
  try {
    cluster.verifyUnused(newid);
  } catch (err) {
    source.lock = undefined;
    throw err;
  }
  const clone: GuestState = {
    vmid: newid,
    type: 'lxc',
    node,
    template: false,
    status: 'stopped',
    lock: 'create',
    storage: source.storage,
    snapshots: new Set(),
    config: new Map(),
  };
  cluster.addGuest(clone);

  try {
    const full = p.full !== undefined ? p.full === '1' : !source.template;
    if (p.storage !== undefined && !full) {
      throw dieError("parameter 'storage' not allowed for linked clones");
    }
    if (p.snapname && !source.snapshots.has(p.snapname)) {
      throw dieError(`snapshot '${p.snapname}' does not exist`);
    }

    const sourceStorage = cluster.requireStorage(source.storage);
    const allocation = full && p.storage ? cluster.requireStorage(p.storage) : sourceStorage;
    if (full && source.status === 'running' && !p.snapname) {
      throw dieError('Full clone of a running container is only possible from a snapshot');
    }
    // Linked clones need a base volume (or a snapshot) on a storage that can clone raw/subvol.
    if (!full && (!cluster.canLinkClone(sourceStorage) || (!source.template && !p.snapname))) {
      throw dieError(
        `Linked clone feature for '${rootVolume(source, sourceStorage)}' is not available`,
      );
    }
    if (target && !allocation.shared) {
      throw dieError(`can't clone CT to node '${target}' (CT uses local storage)`);
    }

    for (const [key, value] of source.config) clone.config.set(key, value);
    // Perl truth: an empty (or "0") hostname or description keeps the source's value.
    if (isPerlTrue(p.hostname)) clone.config.set('hostname', p.hostname);
    if (isPerlTrue(p.description)) clone.config.set('description', p.description);
    clone.storage = allocation.id;

    return { source, clone, full, allocation, target, params };
  } catch (err) {
    source.lock = undefined;
    cluster.removeGuest(newid);
    throw err;
  }
}

/** The vzclone worker. Its errors only reach the task's exitstatus. */
async function runClone(state: FakeState, plan: LxcClonePlan, run: CloneRun): Promise<void> {
  const { source, clone } = plan;
  const volume = rootVolume(source, state.cluster.storage(source.storage));
  run.task.log.push(`creating a clone of container ${source.vmid} with ID ${clone.vmid}`);
  run.task.log.push(
    plan.full
      ? `create full clone of mountpoint rootfs (${volume})`
      : `create linked clone of mount point rootfs (${volume})`,
  );

  const lockError = await holdStorageLock(state, plan.allocation, run.info.node);
  if (!lockError) await untilDuration(state, run);
  const exitstatus = lockError
    ? `clone failed: ${lockError}`
    : state.options.taskExitStatus(run.info);

  // The source's `disk` lock goes first, in every case, before the task counts as stopped.
  if (source.lock === 'disk') source.lock = undefined;

  if (isFailedExitStatus(exitstatus)) {
    if (state.cluster.guest(clone.vmid) === clone) state.cluster.removeGuest(clone.vmid);
  } else {
    if (clone.lock === 'create') clone.lock = undefined;
    // With target=, the config moves at the very end; the task stays on the source node.
    if (plan.target) clone.node = plan.target;
  }
  endCloneRun(state, run, exitstatus);
}
