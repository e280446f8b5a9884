import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type FrontProcess, findMissingCommand, startFrontProcess } from './support/front-process';
import {
  describeAllTraffic,
  describeClonesOnly,
  TEST_CA_FILE,
  type Upstreams,
} from './support/front-scenarios';
import { hostPort, pickFreePort, readRecipe, renderRecipe } from './support/recipe';

const missing = findMissingCommand('caddy', ['version']);

/**
 * Run a Caddyfile from docs/deploy with real Caddy on a loopback port: the site address and
 * the upstreams are swapped for the spec's, and a global block turns off what a test must not
 * touch (the admin API, certificates, other interfaces).
 */
async function startCaddy(
  recipe: string,
  substitutions: [string, string][],
  port: number,
): Promise<FrontProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'pve-clone-proxy-caddy-'));
  const site = renderRecipe(readRecipe(recipe), [
    ['pve.example.com', `http://127.0.0.1:${port}`],
    ...substitutions,
  ]);
  const global =
    '{\n\tadmin off\n\tauto_https off\n\tdefault_bind 127.0.0.1\n\tgrace_period 1s\n}\n';
  const config = join(dir, 'Caddyfile');
  await writeFile(config, `${global}\n${site}`);

  const env = {
    PATH: process.env.PATH,
    HOME: dir,
    XDG_CONFIG_HOME: join(dir, 'config'),
    XDG_DATA_HOME: join(dir, 'data'),
  };
  try {
    const caddy = await startFrontProcess(
      'caddy',
      ['run', '--config', config, '--adapter', 'caddyfile'],
      { port, env, cwd: dir },
    );
    return { ...caddy, stop: () => caddy.stop().finally(() => rm(dir, { recursive: true })) };
  } catch (error) {
    await rm(dir, { recursive: true });
    throw error;
  }
}

describe('Caddy recipes from docs/deploy, run by real Caddy', () => {
  describeAllTraffic('layout (b), Caddyfile.all-traffic: everything through the proxy', {
    missing,
    keepsReasonPhrase: false,
    start: async ({ proxyUrl }: Upstreams) =>
      startCaddy(
        'Caddyfile.all-traffic',
        [['127.0.0.1:8081', hostPort(proxyUrl)]],
        await pickFreePort(),
      ),
  });

  describeClonesOnly('layout (a), Caddyfile.clones-only: only clones through the proxy', {
    missing,
    keepsReasonPhrase: false,
    start: async ({ proxyUrl, pveUrl }: Upstreams) =>
      startCaddy(
        'Caddyfile.clones-only',
        [
          ['127.0.0.1:8081', hostPort(proxyUrl)],
          ['https://127.0.0.1:8006', pveUrl],
          ['/etc/caddy/pve-root-ca.pem', TEST_CA_FILE],
        ],
        await pickFreePort(),
      ),
  });
});
