import { loadServerConfig } from '../../../lib/config/server-config';
import { createLogger } from '../../../lib/observe/logger';
import { createCloneProxyServer } from '../../../lib/server';
import { serveParent, tellParent } from '../support/bench-child';
import { readMemory } from '../support/memory';

const WAIT_STEP_MS = 20;

/**
 * The standalone server as `bin/` builds it, configured from `CLONE_PROXY_*` like the real one,
 * plus what the benchmark needs to look inside: memory, queue length, and (when asked) the
 * monotonic time at which each clone was queued or withdrawn.
 */
async function main(): Promise<void> {
  const config = loadServerConfig(process.env);
  const logger = createLogger({ level: config.logLevel, format: 'json' });
  const server = createCloneProxyServer(config, { logger });
  const url = await server.listen();
  const { events, lanes } = server.proxy.middleware;
  const waiting = () => lanes.list().reduce((sum, lane) => sum + lane.waitingCount, 0);

  let tracing = false;
  const trace = (name: string) => () => {
    if (tracing) tellParent(name, { at: process.hrtime.bigint().toString(), waiting: waiting() });
  };
  events.on('queued', trace('queued'));
  events.on('withdrawn', trace('withdrawn'));

  serveParent(
    {
      memory: readMemory,
      trace: (on: boolean) => {
        tracing = on;
      },
      waiting,
      /** Resolves with the queue length once it reaches `count`, or at the deadline. */
      waitForWaiting: async ({ count, timeoutMs }: { count: number; timeoutMs: number }) => {
        const deadline = Date.now() + timeoutMs;
        while (waiting() < count && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, WAIT_STEP_MS));
        }
        return waiting();
      },
      stop: () => Promise.race([server.close(), new Promise((r) => setTimeout(r, 2000))]),
    },
    { url, pid: process.pid },
  );
}

void main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});
