import type { ServerConfig } from '../../../lib/config/server-config';
import { createSilentLogger, type Logger } from '../../../lib/observe/logger';
import { type CloneProxyServer, createCloneProxyServer } from '../../../lib/server';
import { createSpecConfig } from '../../support/stack';

export interface Proxies {
  servers: CloneProxyServer[];
  urls: string[];
  close(): Promise<void>;
}

/** `count` proxies in this process, in front of one PVE, each on its own loopback port. */
export async function startProxies(
  count: number,
  pveUrl: string,
  proxy: Partial<ServerConfig>,
  logger: Logger = createSilentLogger(),
): Promise<Proxies> {
  const config = createSpecConfig(pveUrl, proxy);
  const servers = Array.from({ length: count }, () => createCloneProxyServer(config, { logger }));
  const urls = await Promise.all(servers.map((server) => server.listen()));

  return {
    servers,
    urls,
    async close() {
      await Promise.all(servers.map((server) => server.close()));
    },
  };
}
