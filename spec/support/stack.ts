import { loadServerConfig, type ServerConfig } from '../../lib/config/server-config';
import { createFakePve, type FakePve, type FakePveOptions } from '../../lib/fake-pve';
import { createSilentLogger, type Logger } from '../../lib/observe/logger';
import { type CloneProxyServer, createCloneProxyServer } from '../../lib/server';

export interface Stack {
  pve: FakePve;
  pveUrl: string;
  proxy: CloneProxyServer;
  proxyUrl: string;
  close(): Promise<void>;
}

export interface StackOptions {
  pve?: FakePveOptions;
  proxy?: Partial<ServerConfig>;
  logger?: Logger;
}

/** Server settings for specs: loopback port 0, fast polls, short timeouts, then `overrides`. */
export function createSpecConfig(
  pveUrl: string,
  overrides: Partial<ServerConfig> = {},
): ServerConfig {
  return {
    ...loadServerConfig({ CLONE_PROXY_LISTEN: '127.0.0.1:0', CLONE_PROXY_TARGET: pveUrl }),
    pollIntervalMs: 20,
    pollTimeoutMs: 30_000,
    requestTimeoutMs: 5_000,
    shutdownTimeoutMs: 5_000,
    ...overrides,
  };
}

/** A PVE double and a proxy in front of it, both on loopback port 0. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const pve = createFakePve({ authDelayMs: 0, ...options.pve });
  const pveUrl = await pve.listen(0, '127.0.0.1');

  const config = createSpecConfig(pveUrl, options.proxy);

  const proxy = createCloneProxyServer(config, { logger: options.logger ?? createSilentLogger() });
  const proxyUrl = await proxy.listen();

  return {
    pve,
    pveUrl,
    proxy,
    proxyUrl,
    async close() {
      await proxy.close();
      await pve.close();
    },
  };
}
