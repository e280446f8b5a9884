import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';

import { formatNumber, formatSpread, formatVerdict, type Section } from './support/report';
import { spreadOf } from './support/stats';

const GOAL_MS = 300;
const LIMIT_MS = 10_000;

/**
 * The compiled server from spawn to its `listening` log line, against a bare `node -e` as the
 * floor that no Node program can go under on this machine.
 */
export async function benchStartUp(options: {
  quick: boolean;
  root: string;
  log: (line: string) => void;
}): Promise<Section> {
  const runs = options.quick ? 5 : 10;
  options.log('start-up: npm run build');
  const buildStartedAt = performance.now();
  const build = spawnSync('npm', ['run', 'build'], { cwd: options.root, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}${build.stderr}`);
  const buildMs = performance.now() - buildStartedAt;

  const bin = join(options.root, 'dist', 'bin', 'pve-clone-proxy.js');
  const server: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < runs; i++) {
    bare.push(await timeUntil(['-e', 'process.stderr.write("ready\\n")'], 'ready'));
    server.push(await timeUntil([bin], '"message":"listening"'));
  }
  options.log(`start-up: ${runs} runs`);

  const spread = spreadOf(server);
  return {
    title: 'Start-up',
    method: `\`node dist/bin/pve-clone-proxy.js\` (after \`npm run build\`, which took ${formatNumber(buildMs / 1000, 1)} s) with \`CLONE_PROXY_LISTEN=127.0.0.1:0\` and JSON logs, timed from spawn to the \`"message":"listening"\` line on stderr, ${runs} runs, each after a bare \`node -e\` that writes one line.`,
    tables: [
      {
        head: ['process', 'spawn to ready: median (min–max)', 'goal'],
        rows: [
          [
            'pve-clone-proxy',
            formatSpread(spread, 0, ' ms'),
            `< ${GOAL_MS} ms: ${formatVerdict(spread.median < GOAL_MS)}`,
          ],
          ['bare node -e', formatSpread(spreadOf(bare), 0, ' ms'), ''],
        ],
      },
    ],
    reading: [
      `The server needs ${formatNumber(spread.median - spreadOf(bare).median)} ms more than Node itself to start: loading its modules (express, http-proxy-middleware, undici, winston, prom-client) and binding the listener.`,
    ],
  };
}

/** Milliseconds from spawn until `marker` appears on stderr; the process is then stopped. */
function timeUntil(args: string[], marker: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const startedAt = performance.now();
    const child = spawn(process.execPath, args, {
      env: {
        PATH: process.env.PATH,
        CLONE_PROXY_LISTEN: '127.0.0.1:0',
        CLONE_PROXY_TARGET: 'http://127.0.0.1:9',
        CLONE_PROXY_LOG_FORMAT: 'json',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let output = '';
    let readyMs: number | undefined;
    const timer = setTimeout(() => child.kill('SIGKILL'), LIMIT_MS);
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (readyMs === undefined && output.includes(marker)) {
        readyMs = performance.now() - startedAt;
        child.kill('SIGTERM');
      }
    });
    child.once('exit', () => {
      clearTimeout(timer);
      if (readyMs === undefined)
        reject(new Error(`no ${marker} within ${LIMIT_MS} ms:\n${output}`));
      else resolve(readyMs);
    });
  });
}
