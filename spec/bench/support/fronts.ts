import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  type FrontProcess,
  findMissingCommand,
  startFrontProcess,
} from '../../deploy/support/front-process';
import { hostPort, pickFreePort } from '../../deploy/support/recipe';

/** A plain reverse proxy to compare with: everything to one upstream, kept-alive connections. */
export interface Front {
  name: 'nginx' | 'Caddy';
  /** Why it cannot run here; the benchmark then leaves its rows empty and says so. */
  missing: string | undefined;
  version: string;
  start(upstreamUrl: string): Promise<FrontProcess>;
}

/**
 * nginx as Debian ships it (workers: one per core), with the settings a reverse proxy in front
 * of PVE would get anyway: upstream keep-alive that ends before the upstream's own, and a body
 * buffer that holds a 64 KiB form in memory instead of a temp file.
 */
export const NGINX: Front = {
  name: 'nginx',
  missing: findMissingCommand('nginx', ['-v']),
  version: readVersion('nginx', ['-v']),
  async start(upstreamUrl) {
    const dir = await mkdtemp(join(tmpdir(), 'pve-clone-proxy-bench-nginx-'));
    // Workers drop to an unprivileged user when nginx starts as root; they need the temp paths.
    await chmod(dir, 0o755);
    const port = await pickFreePort();
    const conf = [
      'daemon off;',
      `pid ${join(dir, 'nginx.pid')};`,
      'error_log stderr warn;',
      'worker_processes auto;',
      'events { worker_connections 1024; }',
      'http {',
      '    access_log off;',
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
        (kind) => `    ${kind}_temp_path ${join(dir, kind)};`,
      ),
      '    client_body_buffer_size 128k;',
      // Below Node's own 5 s keep-alive timeout in the double, so nginx never reuses a
      // connection the double is closing (a 502 otherwise, after each idle pause).
      `    upstream pve { server ${hostPort(upstreamUrl)}; keepalive 64; keepalive_timeout 4s; }`,
      '    server {',
      `        listen 127.0.0.1:${port};`,
      '        location / {',
      '            proxy_pass http://pve;',
      '            proxy_http_version 1.1;',
      '            proxy_set_header Connection "";',
      '        }',
      '    }',
      '}',
    ].join('\n');
    await writeFile(join(dir, 'nginx.conf'), `${conf}\n`);
    const front = await startFrontProcess('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], {
      port,
    });
    return withCleanup(front, dir);
  },
};

/** Caddy with its defaults: `reverse_proxy` keeps upstream connections alive on its own. */
export const CADDY: Front = {
  name: 'Caddy',
  missing: findMissingCommand('caddy', ['version']),
  version: readVersion('caddy', ['version']),
  async start(upstreamUrl) {
    const dir = await mkdtemp(join(tmpdir(), 'pve-clone-proxy-bench-caddy-'));
    const port = await pickFreePort();
    const conf = [
      '{',
      '\tadmin off',
      '\tauto_https off',
      '}',
      `http://127.0.0.1:${port} {`,
      '\tbind 127.0.0.1',
      `\treverse_proxy ${hostPort(upstreamUrl)}`,
      '}',
    ].join('\n');
    await writeFile(join(dir, 'Caddyfile'), `${conf}\n`);
    // Caddy keeps state under XDG_DATA_HOME even with admin and auto_https off.
    const env = { ...process.env, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir, HOME: dir };
    const front = await startFrontProcess(
      'caddy',
      ['run', '--config', join(dir, 'Caddyfile'), '--adapter', 'caddyfile'],
      { port, env },
    );
    return withCleanup(front, dir);
  },
};

function withCleanup(front: FrontProcess, dir: string): FrontProcess {
  return {
    ...front,
    async stop() {
      await front.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function readVersion(command: string, args: string[]): string {
  const probe = spawnSync(command, args, { encoding: 'utf8', timeout: 5_000 });
  const text = `${probe.stdout ?? ''}${probe.stderr ?? ''}`.trim().split('\n')[0] ?? '';
  return text.replace(/^nginx version: /, '') || 'unknown';
}
