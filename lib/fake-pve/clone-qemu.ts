import { type CloneRun, endCloneRun, startCloneRun, untilDuration } from './clone-task';
import { type GuestState, rootVolume } from './cluster';
import { dieError } from './errors';
import { isPerlTrue } from './params';
import { DroppedReply, RawReply } from './replies';
import type { ApiHandler } from './router';
import { type Schema, type VerifiedParams, verifyParams } from './schema';
import type { FakeState } from './state';
import { isFailedExitStatus } from './tasks';

/** qemu-server src/PVE/API2/Qemu.pm, clone_vm. `bwlimit` is an integer here, a number for LXC. */
const QEMU_CLONE_SCHEMA: Schema = {
  node: { type: 'string', format: 'pve-node' },
  vmid: { type: 'integer', format: 'pve-vmid' },
  newid: { type: 'integer', format: 'pve-vmid' },
  name: { type: 'string', format: 'dns-name', optional: true },
  description: { type: 'string', optional: true },
  pool: { type: 'string', format: 'pve-poolid', optional: true },
  snapname: { type: 'string', format: 'pve-configid', maxLength: 40, optional: true },
  storage: { type: 'string', format: 'pve-storage-id', optional: true },
  format: { type: 'string', enum: ['raw', 'qcow2', 'vmdk'], optional: true },
  full: { type: 'boolean', optional: true },
  target: { type: 'string', format: 'pve-node', optional: true },
  bwlimit: { type: 'integer', minimum: 0, optional: true },
};

/** Time for fork_worker and the first flock, before the worker writes its placeholder. */
const WORKER_START_MS = 10;

interface QemuClonePlan {
  source: GuestState;
  newid: number;
  full: boolean;
  target?: string;
  params: Record<string, string>;
}

/**
 * `POST /nodes/{node}/qemu/{vmid}/clone`. Unlike LXC, the synchronous part takes no lock and
 * sets none on the source, so parallel clones of one template all get a UPID; conflicts over the
 * new id show up in the tasks.
 */
export function createQemuCloneHandler(state: FakeState): ApiHandler {
  // New-id flocks held by running qmclone workers (/var/lock/qemu-server/lock-<id>.conf).
  const newidLocks = new Set<string>();

  return async (call) => {
    const fault = state.faults.takeCloneFault();
    if (fault.answer) return new RawReply(fault.answer);
    if (fault.delayMs !== undefined) await state.timers.sleep(fault.delayMs);

    const plan = prepareClone(state, call.node, verifyParams(call.params, QEMU_CLONE_SCHEMA));
    const run = startCloneRun(
      state,
      'qmclone',
      { node: call.node, vmid: plan.source.vmid, newid: plan.newid, params: plan.params },
      call.identity,
    );
    void runClone(state, plan, run, newidLocks);

    return fault.drop ? new DroppedReply() : run.task.upid;
  };
}

/** load_and_check, as run before forking the worker. */
function prepareClone(state: FakeState, node: string, p: VerifiedParams): QemuClonePlan {
  const { cluster } = state;
  const { node: _node, vmid: _vmid, ...params } = p;

  if (p.pool !== undefined) cluster.verifyPool(p.pool);
  const target = p.target && p.target !== node && p.target !== 'localhost' ? p.target : undefined;
  if (target && !cluster.hasNode(target)) throw dieError(`no such cluster node '${target}'`);
  const storage = p.storage ? cluster.requireStorage(p.storage) : undefined;
  if (storage && target && !storage.shared) {
    throw dieError(`can't clone to non-shared storage '${storage.id}'`);
  }

  const source = cluster.loadConfig(node, Number(p.vmid), 'qemu');
  if (source.lock) throw dieError(`VM is locked (${source.lock})`);
  if (p.snapname && !source.snapshots.has(p.snapname)) {
    throw dieError(`snapshot '${p.snapname}' does not exist`);
  }

  const full = p.full !== undefined ? p.full === '1' : !source.template;
  for (const name of ['storage', 'format']) {
    if (p[name] !== undefined && !full) {
      throw dieError(`parameter '${name}' not allowed for linked clones`);
    }
  }

  const disks = storage ?? cluster.requireStorage(source.storage);
  if (target && !disks.shared) {
    throw dieError(`can't clone VM to node '${target}' (VM uses local storage)`);
  }

  // Only a config on this node is seen here; one on another node fails later, in the worker.
  const newid = Number(p.newid);
  if (cluster.guest(newid)?.node === node) {
    throw dieError(`unable to create VM ${newid}: config file already exists`);
  }
  return { source, newid, full, target, params };
}

/** The qmclone worker: new-id flock (1 s in PVE), a `lock: clone` placeholder, the disk copy. */
async function runClone(
  state: FakeState,
  plan: QemuClonePlan,
  run: CloneRun,
  newidLocks: Set<string>,
): Promise<void> {
  const { cluster } = state;
  const lockKey = `${run.info.node}/${plan.newid}`;

  // The worker starts after the POST has answered: until then the new id is not taken.
  await state.timers.sleep(WORKER_START_MS);
  if (newidLocks.has(lockKey)) await state.timers.sleep(state.options.storageLockTimeoutMs);
  if (newidLocks.has(lockKey)) {
    endCloneRun(
      state,
      run,
      `can't lock file '/var/lock/qemu-server/lock-${plan.newid}.conf' - got timeout`,
    );
    return;
  }
  if (cluster.guest(plan.newid)) {
    endCloneRun(state, run, `unable to create VM ${plan.newid}: config file already exists`);
    return;
  }

  newidLocks.add(lockKey);
  const clone = createPlaceholder(plan, run.info.node);
  cluster.addGuest(clone);
  const volume = rootVolume(plan.source, cluster.storage(plan.source.storage));
  run.task.log.push(
    plan.full
      ? `create full clone of drive scsi0 (${volume})`
      : `create linked clone of drive scsi0 (${volume})`,
  );

  await untilDuration(state, run);
  const exitstatus = state.options.taskExitStatus(run.info);

  if (isFailedExitStatus(exitstatus)) {
    if (cluster.guest(clone.vmid) === clone) cluster.removeGuest(clone.vmid);
  } else {
    if (clone.lock === 'clone') clone.lock = undefined;
    if (plan.target) clone.node = plan.target;
  }
  newidLocks.delete(lockKey);
  endCloneRun(state, run, exitstatus);
}

function createPlaceholder(plan: QemuClonePlan, node: string): GuestState {
  const { source, params } = plan;
  const config = new Map(source.config);
  config.set(
    'name',
    isPerlTrue(params.name)
      ? params.name
      : `Copy-of-VM-${source.config.get('name') ?? source.vmid}`,
  );
  if (isPerlTrue(params.description)) config.set('description', params.description);

  return {
    vmid: plan.newid,
    type: 'qemu',
    node,
    template: false,
    status: 'stopped',
    lock: 'clone',
    storage: plan.full && params.storage ? params.storage : source.storage,
    snapshots: new Set(),
    config,
  };
}
