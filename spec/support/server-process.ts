import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

const BIN = join(__dirname, '..', '..', 'bin', 'pve-clone-proxy.ts');

/**
 * Run `bin/pve-clone-proxy` as a child process, as systemd would (with tsx), and resolve once it
 * logs that it listens. `--` keeps Node from reading the server's own options.
 */
export function startServerProcess(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; url: string; exit: Promise<number | null> }> {
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', '--', BIN], {
    env: { PATH: process.env.PATH ?? '', CLONE_PROXY_LISTEN: '127.0.0.1:0', ...env },
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

  let log = '';
  const url = new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      log += chunk;
      const match = /"url":"(https?:\/\/[^"]+)"/.exec(log);
      if (match) resolve(match[1]);
    });
    setTimeout(() => reject(new Error(`no listening line: ${log}`)), 8000).unref();
  });
  return url.then((found) => ({ child, url: found, exit }));
}
