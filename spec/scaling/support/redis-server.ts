import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A throwaway redis-server on a free loopback port, persisting nothing, in its own temp dir. */
export interface RedisServer {
  url: string;
  port: number;
  /** Start it (again, on the same port after `stop`). */
  start(): Promise<void>;
  /** `SHUTDOWN NOSAVE`, then wait for the process to end. */
  stop(): Promise<void>;
  /** Run one command with redis-cli; its raw output, trimmed. */
  command(...args: string[]): Promise<string>;
  /** Stop it if it runs and remove its directory. */
  close(): Promise<void>;
}

export async function startRedisServer(): Promise<RedisServer> {
  const port = await findFreePort();
  const dir = mkdtempSync(join(tmpdir(), 'pve-clone-proxy-redis-'));
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const server: RedisServer = {
    url: `redis://127.0.0.1:${port}`,
    port,
    async start() {
      const args = [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
      ];
      child = spawn('redis-server', [...args, '--dir', dir], { stdio: 'ignore' });
      exited = new Promise((resolve) => child?.once('exit', () => resolve()));
      for (let tries = 0; tries < 100; tries += 1) {
        if (await ping(port)) return;
        await sleep(20);
      }
      throw new Error(`redis-server on port ${port} did not answer PING`);
    },
    async stop() {
      if (!child || child.exitCode !== null) return;
      await run('redis-cli', ['-p', String(port), 'shutdown', 'nosave']).catch(() => {});
      const stopped = await Promise.race([exited.then(() => true), sleep(3000, false)]);
      if (!stopped) child.kill('SIGKILL');
      await exited;
      child = undefined;
    },
    async command(...args) {
      const { stdout } = await run('redis-cli', ['-p', String(port), ...args]);
      return stdout.trim();
    },
    async close() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}

async function ping(port: number): Promise<boolean> {
  try {
    const { stdout } = await run('redis-cli', ['-p', String(port), 'ping']);
    return stdout.trim() === 'PONG';
  } catch {
    return false;
  }
}

function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
