import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { parseDuration } from '../../lib/config/duration';
import { DEFAULT_OPTIONS } from '../../lib/config/proxy-config';
import { TOKEN } from '../support/http-client';
import { type Stack, startStack } from '../support/stack';
import { type FrontProcess, findMissingCommand, startFrontProcess } from './support/front-process';
import {
  describeAllTraffic,
  describeClonesOnly,
  TEST_CA_FILE,
  type Upstreams,
} from './support/front-scenarios';
import { hostPort, pickFreePort, readRecipe, renderRecipe } from './support/recipe';

const missing = findMissingCommand('nginx', ['-v']);

/**
 * A form PUT sent chunked, its second half a moment after the first, so that nginx has to
 * decide how to pass on a body it has not yet seen whole.
 */
function putChunked(baseUrl: string, path: string, body: string): Promise<number> {
  const half = Math.ceil(body.length / 2);
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, baseUrl), {
      method: 'PUT',
      agent: false,
      headers: { Authorization: TOKEN, 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.write(body.slice(0, half));
    setTimeout(() => req.end(body.slice(half)), 100);
  });
}
const RECIPES = ['nginx-all-traffic.conf', 'nginx-clones-only.conf'];

/**
 * Run a recipe from docs/deploy with real nginx on a loopback port. The recipe is an http-level
 * file as it would sit in /etc/nginx/conf.d; a small main file around it keeps pid, logs and
 * temp files in a temp dir. The listener speaks plain HTTP here: the client helpers do not
 * speak TLS to the front, and the front's own TLS is ordinary nginx.
 */
async function startNginx(
  recipe: string,
  substitutions: [string, string][],
  port: number,
): Promise<FrontProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'pve-clone-proxy-nginx-'));
  // Workers drop to an unprivileged user when nginx starts as root; they need the temp paths.
  await chmod(dir, 0o755);
  const site = renderRecipe(readRecipe(recipe), [
    ['listen 443 ssl;', `listen 127.0.0.1:${port};`],
    ['    ssl_certificate     /etc/nginx/ssl/pve.example.com.crt;\n', ''],
    ['    ssl_certificate_key /etc/nginx/ssl/pve.example.com.key;\n', ''],
    ...substitutions,
  ]);
  await writeFile(join(dir, 'site.conf'), site);
  const main = [
    `pid ${join(dir, 'nginx.pid')};`,
    'error_log stderr notice;',
    'worker_processes 1;',
    'events { worker_connections 64; }',
    'http {',
    '    access_log off;',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
      (kind) => `    ${kind}_temp_path ${join(dir, kind)};`,
    ),
    `    include ${join(dir, 'site.conf')};`,
    '}',
  ].join('\n');
  await writeFile(join(dir, 'nginx.conf'), `${main}\n`);

  try {
    const nginx = await startFrontProcess(
      'nginx',
      ['-p', `${dir}/`, '-c', join(dir, 'nginx.conf'), '-e', 'stderr', '-g', 'daemon off;'],
      { port, cwd: dir },
    );
    return { ...nginx, stop: () => nginx.stop().finally(() => rm(dir, { recursive: true })) };
  } catch (error) {
    await rm(dir, { recursive: true });
    throw error;
  }
}

const startAllTraffic = async ({ proxyUrl }: Pick<Upstreams, 'proxyUrl'>) =>
  startNginx(
    'nginx-all-traffic.conf',
    [['127.0.0.1:8081', hostPort(proxyUrl)]],
    await pickFreePort(),
  );

describe('nginx recipes from docs/deploy, run by real nginx', () => {
  describeAllTraffic('layout (b), nginx-all-traffic.conf: everything through the proxy', {
    missing,
    keepsReasonPhrase: true,
    start: startAllTraffic,
  });

  describeClonesOnly('layout (a), nginx-clones-only.conf: only clones through the proxy', {
    missing,
    keepsReasonPhrase: true,
    start: async ({ proxyUrl, pveUrl }: Upstreams) =>
      startNginx(
        'nginx-clones-only.conf',
        [
          ['127.0.0.1:8081', hostPort(proxyUrl)],
          ['127.0.0.1:8006', hostPort(pveUrl)],
          ['/etc/pve/pve-root-ca.pem', TEST_CA_FILE],
        ],
        await pickFreePort(),
      ),
  });

  describe('request bodies', () => {
    let stack: Stack | undefined;
    let nginx: FrontProcess | undefined;

    before(async () => {
      if (missing) return;
      stack = await startStack();
      nginx = await startAllTraffic(stack);
    });

    after(async () => {
      await nginx?.stop();
      await stack?.close();
    });

    it('should send a chunked body on with Content-Length, which PVE requires', async function () {
      if (!stack || !nginx) {
        if (this.test) this.test.title += ` (skipped: ${missing})`;
        return this.skip();
      }
      const body = 'description=sent%20in%20two%20chunks';
      const status = await putChunked(nginx.url, '/api2/json/nodes/pve1/lxc/100/config', body);

      assert.equal(status, 200, nginx.output());
      const [seen] = stack.pve.record.requests;
      assert.equal(seen.headers['transfer-encoding'], undefined);
      assert.equal(seen.headers['content-length'], String(body.length));
      assert.equal(seen.body.toString(), body);
    });
  });

  describe('timeouts', () => {
    for (const recipe of RECIPES) {
      it(`should wait longer for an answer than a clone task may run (${recipe})`, () => {
        const [, value] = /^\s*proxy_read_timeout\s+(\S+);/m.exec(readRecipe(recipe)) ?? [];
        const readTimeoutMs = value === undefined ? 60_000 : parseDuration(value);
        const pollTimeoutMs = parseDuration(DEFAULT_OPTIONS.pollTimeout) ?? 0;
        assert.ok(
          readTimeoutMs !== undefined && readTimeoutMs > pollTimeoutMs,
          `proxy_read_timeout ${value ?? '60s (default)'} must exceed the ${DEFAULT_OPTIONS.pollTimeout} a clone task may take`,
        );
      });
    }
  });
});
