import type { FakeCloneInfo, FakeGuest, FakePveOptions, FakeStorage } from './types';

export interface ResolvedOptions {
  nodes: string[];
  guests: FakeGuest[];
  storages: FakeStorage[];
  pools: string[];
  taskDurationMs: (clone: FakeCloneInfo) => number;
  taskExitStatus: (clone: FakeCloneInfo) => string;
  storageLockMs: number;
  storageLockTimeoutMs: number;
  authDelayMs: number;
  legacyEnvelope: boolean;
  users: Record<string, string>;
  tokens: Record<string, string>;
  auditors: string[];
  ticketLifetimeMs: number;
  tls?: { cert: string | Buffer; key: string | Buffer };
  nextid: { lower: number; upper: number };
}

const DEFAULT_DURATION_MS = 200;
const NODE_NAME = /^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/;
const VMID = /^[1-9][0-9]{2,8}$/;

/** Fills in the defaults and rejects bad options before anything listens. */
export function resolveOptions(options: FakePveOptions = {}): ResolvedOptions {
  const nodes = options.nodes ?? ['pve1'];
  if (nodes.length === 0) fail('nodes', nodes, "['pve1']");
  for (const node of nodes) {
    if (!NODE_NAME.test(node) || node === 'localhost') fail('nodes', node, "'pve1'");
  }
  if (new Set(nodes).size !== nodes.length) fail('nodes', nodes, "['pve1', 'pve2']");

  const storages = options.storages ?? [
    { id: 'local', type: 'dir' },
    { id: 'local-lvm', type: 'lvmthin' },
  ];
  const guests = options.guests ?? defaultGuests(nodes[0]);
  verifyGuests(guests, nodes, new Set(storages.map((s) => s.id)));

  const duration = options.taskDurationMs ?? DEFAULT_DURATION_MS;
  const taskDurationMs = typeof duration === 'function' ? duration : () => duration;
  if (typeof duration === 'number') verifyMs('taskDurationMs', duration);

  const resolved: ResolvedOptions = {
    nodes,
    guests,
    storages,
    pools: options.pools ?? [],
    taskDurationMs,
    taskExitStatus: options.taskExitStatus ?? (() => 'OK'),
    storageLockMs:
      options.storageLockMs ?? (typeof duration === 'number' ? Math.min(duration, 100) : 100),
    storageLockTimeoutMs: options.storageLockTimeoutMs ?? 50,
    authDelayMs: options.authDelayMs ?? 3000,
    legacyEnvelope: options.legacyEnvelope ?? false,
    users: options.users ?? { 'root@pam': 'secret' },
    tokens: options.tokens ?? { 'root@pam!test': '00000000-0000-0000-0000-000000000000' },
    auditors: options.auditors ?? ['root@pam'],
    ticketLifetimeMs: options.ticketLifetimeMs ?? 2 * 3_600_000,
    tls: options.tls,
    nextid: { lower: options.nextid?.lower ?? 100, upper: options.nextid?.upper ?? 1_000_000 },
  };

  verifyMs('storageLockMs', resolved.storageLockMs);
  verifyMs('storageLockTimeoutMs', resolved.storageLockTimeoutMs);
  verifyMs('authDelayMs', resolved.authDelayMs);
  verifyMs('ticketLifetimeMs', resolved.ticketLifetimeMs);
  if (resolved.nextid.lower >= resolved.nextid.upper) {
    fail('nextid', resolved.nextid, '{ lower: 100, upper: 1000000 }');
  }
  if (resolved.tls && !(resolved.tls.cert && resolved.tls.key)) {
    fail('tls', '(incomplete)', '{ cert, key }');
  }
  return resolved;
}

function defaultGuests(node: string): FakeGuest[] {
  return [
    { vmid: 9000, type: 'lxc', node, template: true, storage: 'local-lvm', hostname: 'tpl-9000' },
    { vmid: 9002, type: 'lxc', node, template: true, storage: 'local-lvm', hostname: 'tpl-9002' },
    { vmid: 100, type: 'lxc', node, storage: 'local-lvm', hostname: 'ct100' },
    { vmid: 9001, type: 'qemu', node, template: true, storage: 'local-lvm', name: 'tpl-9001' },
  ];
}

function verifyGuests(guests: FakeGuest[], nodes: string[], storages: Set<string>): void {
  const seen = new Set<number>();
  for (const guest of guests) {
    if (!VMID.test(String(guest.vmid)) || seen.has(guest.vmid)) {
      fail('guests[].vmid', guest.vmid, '9000');
    }
    if (guest.node !== undefined && !nodes.includes(guest.node)) {
      fail('guests[].node', guest.node, `'${nodes[0]}'`);
    }
    if (guest.storage !== undefined && !storages.has(guest.storage)) {
      fail('guests[].storage', guest.storage, "'local-lvm' (or add it to storages)");
    }
    seen.add(guest.vmid);
  }
}

function verifyMs(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) fail(name, value, '200');
}

function fail(name: string, value: unknown, example: string): never {
  throw new RangeError(
    `fake-pve: option ${name} is invalid (${JSON.stringify(value)}); for example ${example}`,
  );
}
