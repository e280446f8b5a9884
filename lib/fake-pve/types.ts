import type { IncomingHttpHeaders } from 'node:http';

/** What a clone looked like when its task started; handed to the timing and outcome callbacks. */
export interface FakeCloneInfo {
  /** The node that executes the clone (never `localhost`). */
  node: string;
  vmid: number;
  newid: number;
  /** The verified clone parameters as strings (booleans as `0`/`1`), without `node` and `vmid`. */
  params: Record<string, string>;
}

/** A guest the double starts with. */
export interface FakeGuest {
  vmid: number;
  /** Default `lxc`. */
  type?: 'lxc' | 'qemu';
  /** Default: the first node. */
  node?: string;
  template?: boolean;
  /** Storage of the root disk. Default `local-lvm`. */
  storage?: string;
  hostname?: string;
  /** QEMU guests only. */
  name?: string;
  description?: string;
  /** A config lock such as `backup`. */
  lock?: string;
  /** Names of existing snapshots (for `snapname`). */
  snapshots?: string[];
  /** Default `stopped`. */
  status?: 'running' | 'stopped';
}

/** A storage the double knows. Types `dir`, `nfs` and `cifs` cannot hold linked CT clones. */
export interface FakeStorage {
  id: string;
  /** Default `lvmthin`. */
  type?: string;
  /** Shared storages use the cluster-wide `cfs-lock` message; local ones the flock message. */
  shared?: boolean;
}

export interface FakePveOptions {
  /** Default `['pve1']`. The first is the node that answers for `localhost`. */
  nodes?: string[];
  /** Default: CT 9000 and CT 9002 templates, CT 100, QEMU template 9001, all on the first node. */
  guests?: FakeGuest[];
  /** Default: `local` (dir) and `local-lvm` (lvmthin), neither shared. */
  storages?: FakeStorage[];
  /** Pools that exist for the `pool` clone parameter. Default none. */
  pools?: string[];
  /** Default 200. */
  taskDurationMs?: number | ((clone: FakeCloneInfo) => number);
  /** Default `OK`. Anything but `OK` or `WARNINGS: <n>` fails the clone with this exitstatus. */
  taskExitStatus?: (clone: FakeCloneInfo) => string;
  /** Default `min(taskDurationMs, 100)` (with a function duration: 100). */
  storageLockMs?: number;
  /** Default 50. Also used for the QEMU new-id flock. */
  storageLockTimeoutMs?: number;
  /** Delay before 401 answers. Default 3000, as PVE. */
  authDelayMs?: number;
  /** Emulate pve-http-server before 5.2.0: no `message` in json errors, no text in server errors. */
  legacyEnvelope?: boolean;
  /** userid -> password. Default `{ 'root@pam': 'secret' }`. */
  users?: Record<string, string>;
  /** Full token id -> secret. Default `{ 'root@pam!test': '00000000-0000-0000-0000-000000000000' }`. */
  tokens?: Record<string, string>;
  /** Auth ids that hold `Sys.Audit` on every node. Default `['root@pam']`. */
  auditors?: string[];
  /** Default 2 hours. */
  ticketLifetimeMs?: number;
  /** Serve HTTPS instead of HTTP. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Range of `/cluster/nextid`. Default lower 100, upper 1000000 (exclusive). */
  nextid?: { lower?: number; upper?: number };
}

export interface FakeRequestRecord {
  method: string;
  /** The raw request target, as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  /** Header names and values exactly as sent, in order. */
  rawHeaders: string[];
  /** The body bytes the double read; empty when it answered without reading. */
  body: Buffer;
  receivedAt: number;
}

export interface FakeTaskRecord {
  upid: string;
  node: string;
  type: 'vzclone' | 'qmclone';
  vmid: number;
  newid: number;
  startedAt: number;
  endedAt?: number;
  exitstatus?: string;
  params: Record<string, string>;
}

/** A raw answer that replaces what the double would have said. */
export interface FakeRawResponse {
  status: number;
  reason?: string;
  headers?: Record<string, string>;
  body: string;
}

/** A copy of one guest's state. */
export interface FakeGuestView {
  vmid: number;
  node: string;
  type: 'lxc' | 'qemu';
  template: boolean;
  lock?: string;
  description?: string;
  hostname?: string;
  name?: string;
  storage: string;
  status: 'running' | 'stopped';
}

export interface FakeRecorder {
  requests: FakeRequestRecord[];
  cloneTasks: FakeTaskRecord[];
  maxConcurrentCloneTasks: number;
  runningCloneTasks(): number;
  statusPolls: number;
  reset(): void;
}

export interface FakeFaults {
  /** The next n task-status answers (any task) are this raw answer instead. */
  failStatusPolls(n: number, status: number, reason: string, body?: string): void;
  /** The next n clone POSTs wait ms before their synchronous part. */
  delayClones(n: number, ms: number): void;
  /** The next n clone POSTs do their synchronous part (the task starts), then lose the socket. */
  dropCloneAnswers(n: number): void;
  /** The next n clone POSTs get this answer and start no task. */
  answerClones(n: number, response: FakeRawResponse): void;
  /** Put a config lock on a guest, as a backup or snapshot would. */
  lockGuest(vmid: number, lock: string): void;
}

export interface FakePve {
  /** Resolves the base URL, e.g. `http://127.0.0.1:41234`. Port 0 and 127.0.0.1 by default. */
  listen(port?: number, host?: string): Promise<string>;
  /** Closes the server, open sockets (websockets included) and every pending timer. */
  close(): Promise<void>;
  readonly url: string;
  readonly record: FakeRecorder;
  readonly faults: FakeFaults;
  guest(vmid: number): FakeGuestView | undefined;
}
