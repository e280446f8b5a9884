/**
 * `npm run demo`: a PVE double and the proxy on loopback, a burst of concurrent LXC clones sent
 * straight to the double and then through the proxy, and what happened to each.
 */
import { setTimeout as sleep } from 'node:timers/promises';

import { loadServerConfig } from '../lib/config/server-config';
import { createFakePve } from '../lib/fake-pve';
import { createLogger } from '../lib/observe/logger';
import { createCloneProxyServer } from '../lib/server';

const CLONES = 6;
const TASK_MS = 800;
const TOKEN = 'PVEAPIToken=root@pam!test=00000000-0000-0000-0000-000000000000';

async function main(): Promise<void> {
  const pve = createFakePve({ taskDurationMs: TASK_MS, authDelayMs: 0 });
  const pveUrl = await pve.listen(0, '127.0.0.1');
  const proxy = createCloneProxyServer(
    {
      ...loadServerConfig({ CLONE_PROXY_LISTEN: '127.0.0.1:0', CLONE_PROXY_TARGET: pveUrl }),
      pollIntervalMs: 100,
    },
    {
      logger: createLogger({
        level: process.env.CLONE_PROXY_LOG_LEVEL ?? 'warn',
        format: 'pretty',
      }),
    },
  );
  const proxyUrl = await proxy.listen();
  print(`PVE double at ${pveUrl} (clone tasks take ${TASK_MS} ms), proxy at ${proxyUrl}\n`);

  print(`${CLONES} concurrent clones of CT 9000 straight to PVE:`);
  const direct = await burst(pveUrl, 201);
  report(direct);
  while (pve.record.runningCloneTasks() > 0) await sleep(50);

  pve.record.reset();
  print(`\nThe same ${CLONES} clones through pve-clone-proxy:`);
  const proxied = await burst(proxyUrl, 301);
  report(proxied);
  print(`\nMost clone tasks PVE ran at once: ${pve.record.maxConcurrentCloneTasks}`);

  await proxy.close();
  await pve.close();
}

interface Outcome {
  newid: number;
  status: number;
  text: string;
  ms: number;
  waitMs?: string;
  taskMs?: string;
}

async function burst(baseUrl: string, firstId: number): Promise<Outcome[]> {
  const started = Date.now();
  return Promise.all(
    Array.from({ length: CLONES }, async (_unused, index) => {
      const newid = firstId + index;
      const response = await fetch(`${baseUrl}/api2/json/nodes/pve1/lxc/9000/clone`, {
        method: 'POST',
        headers: { Authorization: TOKEN, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: `newid=${newid}&hostname=ct-${newid}&full=1`,
      });
      const body = (await response.json()) as { data: string | null; message?: string };
      return {
        newid,
        status: response.status,
        text: body.data ?? (body.message ?? response.statusText).trim(),
        ms: Date.now() - started,
        waitMs: response.headers.get('x-clone-proxy-wait-ms') ?? undefined,
        taskMs: response.headers.get('x-clone-proxy-task-ms') ?? undefined,
      };
    }),
  );
}

function report(outcomes: Outcome[]): void {
  for (const outcome of outcomes) {
    const timing = outcome.waitMs
      ? ` (waited ${outcome.waitMs} ms, task ${outcome.taskMs} ms)`
      : '';
    print(
      `  newid ${outcome.newid}: HTTP ${outcome.status} after ${outcome.ms} ms  ${outcome.text}${timing}`,
    );
  }
  const locked = outcomes.filter((outcome) => outcome.text.startsWith('CT is locked')).length;
  const ok = outcomes.filter((outcome) => outcome.status === 200).length;
  print(`  => ${ok} accepted, ${locked} failed with 'CT is locked (disk)'`);
}

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${(error as Error).stack}\n`);
  process.exit(1);
});
