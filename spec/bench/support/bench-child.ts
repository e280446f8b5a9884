import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** What a bench child says over its IPC channel. */
export type ChildMessage =
  | { kind: 'ready'; data: Record<string, unknown> }
  | { kind: 'reply'; id: number; result?: unknown; error?: string }
  | { kind: 'event'; name: string; data: Record<string, unknown> };

type ParentMessage = { kind: 'call'; id: number; command: string; args: unknown };

export type Handlers = Record<string, (args: never) => unknown>;

const CHILDREN_DIR = join(__dirname, '..', 'children');
const OUTPUT_LIMIT = 20_000;
const READY_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;

/** A benchmark process (double, proxy, load generator) driven over IPC. */
export interface BenchChild {
  pid: number;
  /** What the child said when it was ready, e.g. its URL. */
  ready: Record<string, unknown>;
  call<T>(command: string, args?: unknown, timeoutMs?: number): Promise<T>;
  onEvent(listener: (name: string, data: Record<string, unknown>) => void): void;
  /** The tail of what it wrote to stdout and stderr. */
  output(): string;
  /** Ask it to stop (the `stop` command), and kill it if it does not exit in time. */
  stop(): Promise<void>;
  kill(): Promise<void>;
}

/**
 * Fork `spec/bench/children/<name>.ts` under tsx and wait for its `ready` message. The child
 * gets no `CLONE_PROXY_*` variable from this shell, only those in `env`, so that a variable
 * left set in the caller's environment cannot change what is measured.
 */
export async function startBenchChild(
  name: string,
  options: { env?: Record<string, string>; execArgv?: string[] } = {},
): Promise<BenchChild> {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('CLONE_PROXY_') && key !== 'PVE_API_URL') env[key] = value;
  }
  const child = fork(join(CHILDREN_DIR, `${name}.ts`), [], {
    env: { ...env, ...options.env },
    execArgv: ['--require', 'tsx/cjs', ...(options.execArgv ?? [])],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });

  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);

  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const listeners: ((name: string, data: Record<string, unknown>) => void)[] = [];
  let nextId = 1;
  let readyData: Record<string, unknown> | undefined;

  child.on('message', (message: ChildMessage) => {
    if (message.kind === 'ready') readyData = message.data;
    else if (message.kind === 'event')
      for (const listener of listeners) listener(message.name, message.data);
    else {
      const waiter = pending.get(message.id);
      pending.delete(message.id);
      if (message.error !== undefined) waiter?.reject(new Error(`${name}: ${message.error}`));
      else waiter?.resolve(message.result);
    }
  });
  child.once('exit', (code, signal) => {
    for (const waiter of pending.values()) {
      waiter.reject(new Error(`${name} exited (${signal ?? code}):\n${output}`));
    }
    pending.clear();
  });

  const handle: BenchChild = {
    pid: child.pid ?? 0,
    ready: {},
    call<T>(command: string, args?: unknown, timeoutMs = 60_000): Promise<T> {
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${name}: ${command} took over ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, {
          resolve: (value) => {
            clearTimeout(timer);
            resolve(value as T);
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        });
        child.send({ kind: 'call', id, command, args } satisfies ParentMessage);
      });
    },
    onEvent: (listener) => void listeners.push(listener),
    output: () => output,
    async stop() {
      if (hasExited(child)) return;
      await handle.call('stop', undefined, STOP_TIMEOUT_MS).catch(() => undefined);
      if (await exitsWithin(exited, STOP_TIMEOUT_MS)) return;
      await handle.kill();
    },
    async kill() {
      if (hasExited(child)) return;
      child.kill('SIGKILL');
      await exited;
    },
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!readyData && !hasExited(child) && Date.now() < deadline) await sleep(20);
  if (!readyData) {
    await handle.kill();
    throw new Error(`${name} did not get ready:\n${output}`);
  }
  handle.ready = readyData;
  return handle;
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

async function exitsWithin(exited: Promise<void>, ms: number): Promise<boolean> {
  return Promise.race([exited.then(() => true), sleep(ms, false)]);
}

/** In a child: answer the parent's calls with these handlers. `stop` exits after replying. */
export function serveParent(handlers: Handlers, ready: Record<string, unknown>): void {
  process.on('message', async (message: ParentMessage) => {
    if (message.kind !== 'call') return;
    const handler = (handlers[message.command] ?? (message.command === 'stop' && noop)) as
      | ((args: unknown) => unknown)
      | undefined;
    try {
      if (!handler) throw new Error(`no command ${message.command}`);
      const result = await handler(message.args);
      process.send?.({ kind: 'reply', id: message.id, result } satisfies ChildMessage);
    } catch (error) {
      const text = (error as Error).stack ?? String(error);
      process.send?.({ kind: 'reply', id: message.id, error: text } satisfies ChildMessage);
    }
    if (message.command === 'stop') setImmediate(() => process.exit(0));
  });
  // Without its parent a child has nothing left to do.
  process.on('disconnect', () => process.exit(0));
  process.send?.({ kind: 'ready', data: ready } satisfies ChildMessage);
}

function noop(): void {}

/** In a child: tell the parent something happened, outside any call. */
export function tellParent(name: string, data: Record<string, unknown>): void {
  process.send?.({ kind: 'event', name, data } satisfies ChildMessage);
}
