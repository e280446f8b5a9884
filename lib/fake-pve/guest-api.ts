import { createHash } from 'node:crypto';

import { type GuestState, rootVolume, type StorageState } from './cluster';
import { dieError } from './errors';
import type { ApiHandler } from './router';
import { type PropertySpec, type Schema, verifyParams } from './schema';
import type { FakeState } from './state';

const NODE_VMID: Schema = {
  node: { type: 'string', format: 'pve-node' },
  vmid: { type: 'integer', format: 'pve-vmid' },
};

const flag: PropertySpec = { type: 'boolean', optional: true };
const text: PropertySpec = { type: 'string', optional: true };

/** Options of pve-container API2/LXC/Config.pm (update_vm) the double stores; others get 400. */
const CONFIG_OPTIONS = {
  string:
    'arch cmode cpulimit description features nameserver ostype searchdomain startup tags timezone',
  integer: 'cores cpuunits memory swap tty',
  boolean: 'console onboot protection unprivileged',
} as const;

const CONFIG_PUT_SCHEMA: Schema = {
  ...NODE_VMID,
  ...Object.fromEntries(
    Object.entries(CONFIG_OPTIONS).flatMap(([type, names]) =>
      names.split(' ').map((name) => [name, { type, optional: true } as PropertySpec]),
    ),
  ),
  ...Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`net${i}`, text])),
  ...Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`mp${i}`, text])),
  hostname: { ...text, format: 'dns-name' },
  delete: text,
  revert: text,
  digest: text,
};

/** A short task, enough for pass-through tests of `status/start`. */
const START_TASK_MS = 20;

export function createGuestHandlers(state: FakeState): Record<string, ApiHandler> {
  const { cluster } = state;

  return {
    /** `GET /nodes`. */
    nodes: () =>
      cluster.nodes.map((node) => ({
        node,
        status: 'online',
        type: 'node',
        id: `node/${node}`,
        level: '',
        maxcpu: 4,
        cpu: 0.01,
        maxmem: 8_589_934_592,
        mem: 1_073_741_824,
        uptime: 86_400,
      })),

    /** `GET /nodes/{node}/lxc` and `/qemu`: the guests whose config lives on that node. */
    lxcList: (call) => cluster.guestsOn(call.node, 'lxc').map(listEntry),
    qemuList: (call) => cluster.guestsOn(call.node, 'qemu').map(listEntry),

    /** `GET /nodes/{node}/lxc/{vmid}/config`. */
    lxcConfig(call) {
      const p = verifyParams(call.params, { ...NODE_VMID, current: flag, snapshot: text });
      const guest = cluster.loadConfig(call.node, Number(p.vmid), 'lxc');
      return renderConfig(guest, cluster.storage(guest.storage));
    },

    /** `PUT /nodes/{node}/lxc/{vmid}/config`: refused while the CT carries any lock. */
    lxcConfigUpdate(call) {
      const {
        node: _node,
        vmid,
        digest,
        delete: remove,
        revert: _revert,
        ...options
      } = verifyParams(call.params, CONFIG_PUT_SCHEMA);
      if (Object.keys(options).length === 0 && remove === undefined && digest === undefined) {
        throw dieError('no options specified');
      }

      const guest = cluster.loadConfig(call.node, Number(vmid), 'lxc');
      if (guest.lock) throw dieError(`CT is locked (${guest.lock})`);
      if (digest !== undefined && digest !== configDigest(guest)) {
        // pve-common Tools.pm, assert_if_modified.
        throw dieError('detected modified configuration - file changed by other user? Try again.');
      }

      for (const key of (remove ?? '').split(/[,;\s]+/).filter(Boolean)) guest.config.delete(key);
      for (const [key, value] of Object.entries(options)) guest.config.set(key, value);
      return null;
    },

    /**
     * `POST /nodes/{node}/lxc/{vmid}/status/start` (pve-container API2/LXC/Status.pm, vm_start).
     * Only "already running" is checked before the task; template and lock errors end the task.
     */
    lxcStart(call) {
      const p = verifyParams(call.params, { ...NODE_VMID, skiplock: flag, debug: flag });
      const vmid = Number(p.vmid);
      const guest = cluster.guest(vmid);
      if (guest?.node === call.node && guest.status === 'running') {
        throw dieError(`CT ${vmid} already running`);
      }

      const task = state.tasks.start(
        call.node,
        'vzstart',
        String(vmid),
        call.identity?.authid ?? 'root@pam',
      );
      state.timers.after(START_TASK_MS, () => {
        const current = cluster.guest(vmid);
        let exitstatus = 'OK';
        if (!current || current.node !== call.node || current.type !== 'lxc') {
          exitstatus = `Configuration file 'nodes/${call.node}/lxc/${vmid}.conf' does not exist`;
        } else if (current.template) {
          exitstatus = "you can't start a CT if it's a template";
        } else if (current.lock && p.skiplock !== '1' && current.lock !== 'mounted') {
          exitstatus = `CT is locked (${current.lock})`;
        } else {
          current.status = 'running';
        }
        state.tasks.finish(task, exitstatus);
      });
      return task.upid;
    },
  };
}

function listEntry(guest: GuestState) {
  return {
    vmid: guest.vmid,
    name: guest.config.get(guest.type === 'lxc' ? 'hostname' : 'name'),
    status: guest.status,
    type: guest.type,
    ...(guest.template ? { template: 1 } : {}),
    ...(guest.lock ? { lock: guest.lock } : {}),
    maxmem: Number(guest.config.get('memory') ?? 512) * 1_048_576,
    cpus: Number(guest.config.get('cores') ?? 1),
    uptime: 0,
  };
}

function renderConfig(
  guest: GuestState,
  storage: StorageState | undefined,
): Record<string, unknown> {
  const config: Record<string, unknown> = {
    arch: 'amd64',
    ostype: 'debian',
    rootfs: `${rootVolume(guest, storage)},size=8G`,
    net0: 'name=eth0,bridge=vmbr0,ip=dhcp,type=veth',
    ...Object.fromEntries(guest.config),
  };
  for (const key of ['memory', 'cores', 'swap']) {
    if (typeof config[key] === 'string' && /^\d+$/.test(config[key] as string)) {
      config[key] = Number(config[key]);
    }
  }
  if (guest.lock) config.lock = guest.lock;
  if (guest.template) config.template = 1;
  config.digest = configDigest(guest);
  return config;
}

function configDigest(guest: GuestState): string {
  const content = JSON.stringify([[...guest.config], guest.lock ?? '', guest.template]);
  return createHash('sha1').update(content).digest('hex');
}
