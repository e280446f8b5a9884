#!/usr/bin/env -S node --
// `--` ends Node's own options: Node 20 would otherwise take our `--env-file` as its own flag.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { Command } from 'commander';
import { isClusterWorker, runClusterWorker, startClusterPrimary } from '../lib/cluster/cluster';
import { describeServerConfig, describeVariables } from '../lib/config/describe-config';
import {
  createCloneProxyServer,
  createLogger,
  isProxyError,
  loadServerConfig,
  mergeEnvFile,
  type ServerConfig,
} from '../lib/index';

const program = new Command()
  .name('pve-clone-proxy')
  .description('Serialize LXC clone calls to the Proxmox VE API; pass everything else through.')
  .version(readVersion())
  .option('--env-file <file>', 'read KEY="value" lines before the environment (real variables win)')
  .option('--check-config', 'print the effective configuration (secrets masked) and exit')
  .addHelpText('after', `\nEnvironment variables (default in brackets):\n${describeVariables()}`)
  .action(run);

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`pve-clone-proxy: ${(error as Error).message}\n`);
  process.exit(isProxyError(error) ? 2 : 1);
});

async function run(options: { envFile?: string; checkConfig?: boolean }): Promise<void> {
  const env = options.envFile ? mergeEnvFile(options.envFile, process.env) : process.env;
  const config = loadServerConfig(env);
  if (options.checkConfig) {
    process.stdout.write(`${describeServerConfig(config)}\n`);
    return;
  }

  const logger = createLogger({ level: config.logLevel, format: config.logFormat });
  if (isClusterWorker()) return runClusterWorker(config, logger);

  const { url, adminUrl, close } = await startServer(config, logger);
  // Handlers first: whoever waits for the line below may send a signal at once.
  stopOnSignals(close, config, logger);
  logger.info('listening', {
    url,
    workers: config.workers,
    statusPage: `${adminUrl ?? url}/_clone-proxy/status`,
    target: config.target,
    queueSize: config.queueSize,
  });
}

/** One process, or (CLONE_PROXY_WORKERS > 1) the queue's owner plus workers on the listener. */
async function startServer(
  config: Readonly<ServerConfig>,
  logger: ReturnType<typeof createLogger>,
) {
  if (config.workers > 1) {
    const primary = await startClusterPrimary(config, logger);
    return {
      url: primary.url,
      adminUrl: primary.owner.adminUrl,
      close: primary.close,
    };
  }
  const server = createCloneProxyServer(config, { logger });
  const url = await server.listen();
  return { url, adminUrl: server.adminUrl, close: server.close };
}

function stopOnSignals(
  close: () => Promise<void>,
  config: Readonly<ServerConfig>,
  logger: ReturnType<typeof createLogger>,
): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn('second signal: exiting at once', { signal });
      process.exit(1);
    }
    stopping = true;
    logger.info('shutting down', { signal, shutdownTimeoutMs: config.shutdownTimeoutMs });
    close().then(
      () => logger.info('stopped', {}, () => process.exit(0)),
      (error: unknown) => {
        logger.error('shutdown failed', { reason: (error as Error).message });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

function readVersion(): string {
  for (const up of ['..', join('..', '..')]) {
    try {
      return (
        JSON.parse(readFileSync(join(__dirname, up, 'package.json'), 'utf8')) as { version: string }
      ).version;
    } catch {
      // compiled (dist/bin) and source (bin) sit at different depths
    }
  }
  return 'unknown';
}
