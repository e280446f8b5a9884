import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A real reverse proxy (Caddy, nginx) started for a spec. */
export interface FrontProcess {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** What the process wrote so far, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 3_000;
const OUTPUT_LIMIT = 20_000;

/** Why `command` cannot run here, or undefined when it can. */
export function findMissingCommand(command: string, versionArgs: string[]): string | undefined {
  const probe = spawnSync(command, versionArgs, { encoding: 'utf8', timeout: 5_000 });
  if (probe.error) return `${command} cannot run here (${probe.error.message})`;
  if (probe.status !== 0) return `${command} ${versionArgs.join(' ')} exited ${probe.status}`;
  return undefined;
}

/**
 * Start `command` and resolve once it accepts connections on 127.0.0.1:`port`. Rejects with
 * the process output if it exits first or is not listening within 10 s.
 */
export async function startFrontProcess(
  command: string,
  args: string[],
  options: { port: number; env?: NodeJS.ProcessEnv; cwd?: string },
): Promise<FrontProcess> {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  // A command that cannot be spawned reports 'error' and may never report 'exit'.
  let failed = false;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', (error) => {
      failed = true;
      keep(Buffer.from(`\n${error.message}\n`));
      resolve();
    });
  });

  const front: FrontProcess = {
    url: `http://127.0.0.1:${options.port}`,
    output: () => output,
    stop: () => (failed ? Promise.resolve() : stopProcess(child, exited)),
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (failed || child.exitCode !== null || child.signalCode !== null) break;
    if (await canConnect(options.port)) return front;
    await sleep(50);
  }
  await front.stop();
  throw new Error(`${command} did not start listening on ${options.port}:\n${output}`);
}

async function stopProcess(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const stopped = await Promise.race([exited.then(() => true), sleep(STOP_TIMEOUT_MS, false)]);
  if (stopped) return;
  child.kill('SIGKILL');
  await exited;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
