import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';

import { send } from '../support/http-client';

const BIN = join(__dirname, '..', '..', 'bin', 'pve-clone-proxy.ts');

/** Start the server with tsx and resolve with its first stderr line. */
function start(env: Record<string, string>): {
  child: ChildProcessWithoutNullStreams;
  firstLine: Promise<string>;
} {
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', BIN], {
    env: { PATH: process.env.PATH ?? '', CLONE_PROXY_LISTEN: '127.0.0.1:0', ...env },
  });
  const firstLine = new Promise<string>((resolve, reject) => {
    let text = '';
    child.stderr.on('data', (chunk) => {
      text += chunk;
      if (text.includes('\n')) resolve(text.slice(0, text.indexOf('\n')));
    });
    child.once('exit', (code) => reject(new Error(`exited ${code} before logging: ${text}`)));
  });
  return { child, firstLine };
}

async function stop(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  return code;
}

describe('pve-clone-proxy logs and admin listener', () => {
  it('should log JSON lines when asked and serve the page on its own port', async () => {
    const { child, firstLine } = start({
      CLONE_PROXY_LOG_FORMAT: 'json',
      CLONE_PROXY_ADMIN_LISTEN: '127.0.0.1:0',
    });
    try {
      const line = JSON.parse(await firstLine);
      assert.equal(line.level, 'info');
      assert.equal(line.message, 'listening');
      assert.match(line.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.match(line.statusPage, /^http:\/\/127\.0\.0\.1:\d+\/_clone-proxy\/status$/);
      assert.notEqual(new URL(line.statusPage).port, new URL(line.url).port);

      const page = await send(line.statusPage, { path: '/_clone-proxy/status' });
      assert.equal(page.status, 200);
      assert.match(String(page.headers['content-type']), /^text\/html/);
      assert.match(page.body.toString(), /<title>pve-clone-proxy<\/title>/);
    } finally {
      assert.equal(await stop(child), 0);
    }
  });

  it('should log plain lines with CLONE_PROXY_LOG_FORMAT=pretty', async () => {
    const { child, firstLine } = start({ CLONE_PROXY_LOG_FORMAT: 'pretty' });
    try {
      // Not a terminal, so no colour codes.
      assert.match(
        await firstLine,
        /^info: listening \{.*"statusPage":"http:\/\/127\.0\.0\.1:\d+\/_clone-proxy\/status"/,
      );
    } finally {
      assert.equal(await stop(child), 0);
    }
  });
});
