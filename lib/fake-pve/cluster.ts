import { dieError, permissionError } from './errors';
import type { FakeGuest, FakeGuestView, FakeStorage } from './types';

export type GuestType = 'lxc' | 'qemu';

/** One guest's config as the cluster filesystem would hold it. */
export interface GuestState {
  vmid: number;
  type: GuestType;
  node: string;
  template: boolean;
  status: 'running' | 'stopped';
  lock?: string;
  storage: string;
  snapshots: Set<string>;
  /** Free-form options (hostname, name, description, memory, ...), stored exactly as given. */
  config: Map<string, string>;
}

export interface StorageState {
  id: string;
  type: string;
  shared: boolean;
}

export interface ClusterOptions {
  nodes: string[];
  guests: FakeGuest[];
  storages: FakeStorage[];
  pools: string[];
  nextid: { lower: number; upper: number };
}

/** Storage types whose CT volumes cannot be linked clones (pve-storage Plugin.pm, raw/subvol only). */
const NO_LINKED_CT_CLONES = new Set(['dir', 'nfs', 'cifs', 'glusterfs', 'cephfs']);

export type Cluster = ReturnType<typeof createCluster>;

export function createCluster(options: ClusterOptions) {
  const nodes = [...options.nodes];
  const localNode = nodes[0];
  const guests = new Map<number, GuestState>();
  const storages = new Map(
    options.storages.map((s) => [
      s.id,
      { id: s.id, type: s.type ?? 'lvmthin', shared: s.shared ?? false },
    ]),
  );

  for (const guest of options.guests) guests.set(guest.vmid, initialState(guest, localNode));

  function loadConfig(node: string, vmid: number, type: GuestType): GuestState {
    const guest = guests.get(vmid);
    if (!guest || guest.node !== node || guest.type !== type) {
      // pve-guest-common AbstractConfig.pm, load_config.
      throw dieError(`Configuration file '${configPath(node, vmid, type)}' does not exist`);
    }
    return guest;
  }

  return {
    nodes,
    localNode,

    /**
     * The node that executes a call addressed to `{node}`: `localhost` is the node that received
     * it; another cluster node runs it itself (pveproxy forwards there, proxyto => 'node').
     */
    resolveNode(urlNode: string): string {
      if (urlNode === 'localhost') return localNode;
      if (nodes.includes(urlNode)) return urlNode;
      // pve-common Network.pm, get_ip_from_hostname, reached through remote_node_ip.
      throw dieError(
        `hostname lookup '${urlNode}' failed - failed to get address info for: ${urlNode}: Name or service not known`,
      );
    },

    hasNode: (node: string) => nodes.includes(node),
    guest: (vmid: number) => guests.get(vmid),
    guestsOn: (node: string, type: GuestType) =>
      [...guests.values()].filter((g) => g.node === node && g.type === type),
    loadConfig,
    addGuest: (guest: GuestState) => void guests.set(guest.vmid, guest),
    removeGuest: (vmid: number) => void guests.delete(vmid),

    /** pve-cluster Cluster.pm, check_vmid_unused: an id is taken cluster-wide. */
    verifyUnused(vmid: number): void {
      const existing = guests.get(vmid);
      if (existing) {
        throw dieError(
          `${guestWord(existing.type)} ${vmid} already exists on node '${existing.node}'`,
        );
      }
    },

    storage: (id: string): StorageState | undefined => storages.get(id),

    /** pve-storage Storage.pm, storage_config. */
    requireStorage(id: string): StorageState {
      const storage = storages.get(id);
      if (!storage) throw dieError(`storage '${id}' does not exist`);
      return storage;
    },

    canLinkClone: (storage: StorageState) => !NO_LINKED_CT_CLONES.has(storage.type),

    /** pve-access-control RPCEnvironment.pm, check_pool_exist. */
    verifyPool(pool: string): void {
      if (!options.pools.includes(pool)) throw permissionError(`pool '${pool}' does not exist`);
    },

    /** pve-manager API2/Cluster.pm, nextid: the lowest free id, nothing reserved. */
    nextid(): number {
      const { lower, upper } = options.nextid;
      for (let id = lower; id < upper; id++) if (!guests.has(id)) return id;
      throw dieError(`unable to get any free VMID in range [${lower}, ${upper}]`);
    },
  };
}

export function guestWord(type: GuestType): 'CT' | 'VM' {
  return type === 'lxc' ? 'CT' : 'VM';
}

export function configPath(node: string, vmid: number, type: GuestType): string {
  return `nodes/${node}/${type === 'lxc' ? 'lxc' : 'qemu-server'}/${vmid}.conf`;
}

/** The root volume id, in the shape of the storage type. */
export function rootVolume(guest: GuestState, storage: StorageState | undefined): string {
  const prefix = guest.template ? 'base' : 'vm';
  const name = `${prefix}-${guest.vmid}-disk-0`;
  return storage && NO_LINKED_CT_CLONES.has(storage.type)
    ? `${guest.storage}:${guest.vmid}/${name}.raw`
    : `${guest.storage}:${name}`;
}

export function viewGuest(guest: GuestState): FakeGuestView {
  return {
    vmid: guest.vmid,
    node: guest.node,
    type: guest.type,
    template: guest.template,
    lock: guest.lock,
    description: guest.config.get('description'),
    hostname: guest.config.get('hostname'),
    name: guest.config.get('name'),
    storage: guest.storage,
    status: guest.status,
  };
}

function initialState(guest: FakeGuest, localNode: string): GuestState {
  const type = guest.type ?? 'lxc';
  const config = new Map<string, string>([
    ['memory', '512'],
    ['cores', '1'],
  ]);
  if (type === 'lxc') config.set('hostname', guest.hostname ?? `ct${guest.vmid}`);
  else config.set('name', guest.name ?? `vm${guest.vmid}`);
  if (guest.description !== undefined) config.set('description', guest.description);

  return {
    vmid: guest.vmid,
    type,
    node: guest.node ?? localNode,
    template: guest.template ?? false,
    status: guest.status ?? 'stopped',
    lock: guest.lock,
    storage: guest.storage ?? 'local-lvm',
    snapshots: new Set(guest.snapshots ?? []),
    config,
  };
}
