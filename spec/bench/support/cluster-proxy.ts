import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import type { FrontProcess } from '../../deploy/support/front-process';

const ENTRY = join(__dirname, '..', '..', '..', 'bin', 'pve-clone-proxy.ts');
const OUTPUT_LIMIT = 20_000;
const READY_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 15_000;

/**
 * The proxy with `CLONE_PROXY_WORKERS` workers. Workers only exist when the server starts from
 * `bin/` (cluster.fork re-runs the entry script), so this is the real entry under tsx, and its
 * URL comes from the JSON "listening" line on stderr. Only `env` sets `CLONE_PROXY_*`, as for
 * the other bench children.
 */
export async function startClusterProxy(
  workers: number,
  targetUrl: string,
  env: Record<string, string> = {},
): Promise<FrontProcess> {
  const inherited: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('CLONE_PROXY_') && key !== 'PVE_API_URL') inherited[key] = value;
  }
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', '--', ENTRY], {
    env: {
      ...inherited,
      CLONE_PROXY_LISTEN: '127.0.0.1:0',
      CLONE_PROXY_TARGET: targetUrl,
      CLONE_PROXY_WORKERS: String(workers),
      CLONE_PROXY_LOG_FORMAT: 'json',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });

  let output = '';
  let url: string | undefined;
  child.stdout?.on('data', (chunk: Buffer) => keep(chunk));
  child.stderr?.on('data', (chunk: Buffer) => {
    keep(chunk);
    url ??= findListeningUrl(output);
  });
  function keep(chunk: Buffer): void {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!url && child.exitCode === null && Date.now() < deadline) await sleep(20);
  if (!url) {
    await stop(child, exited);
    throw new Error(`the proxy with ${workers} workers did not get ready:\n${output}`);
  }
  return { url, output: () => output, stop: () => stop(child, exited) };
}

function findListeningUrl(output: string): string | undefined {
  for (const line of output.split('\n')) {
    if (!line.includes('"message":"listening"')) continue;
    try {
      return String((JSON.parse(line) as { url: string }).url);
    } catch {
      // a line still being written; the next chunk completes it
    }
  }
  return undefined;
}

/** SIGTERM lets the primary stop its workers; SIGKILL if that takes too long. */
async function stop(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const stopped = await Promise.race([exited.then(() => true), sleep(STOP_TIMEOUT_MS, false)]);
  if (!stopped) child.kill('SIGKILL');
  await exited;
}
