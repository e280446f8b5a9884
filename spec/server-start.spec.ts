import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';

const BIN = join(__dirname, '..', 'bin', 'pve-clone-proxy.ts');

/** Run the server with tsx; resolves on exit, or kills it after `timeoutMs`. */
function runServer(env: Record<string, string>, args: string[] = [], timeoutMs = 8000) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['--require', 'tsx/cjs', '--', BIN, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('pve-clone-proxy at start', () => {
  it('should stop with exit code 2 and one line naming a bad variable', async () => {
    const result = await runServer({ CLONE_PROXY_POLL_TIMEOUT: 'soon' });
    assert.equal(result.code, 2);
    assert.equal(
      result.stderr,
      'pve-clone-proxy: CLONE_PROXY_POLL_TIMEOUT="soon" is not valid; for example CLONE_PROXY_POLL_TIMEOUT=15m\n',
    );
  });

  it('should name the address when the port is already in use', async () => {
    const busy: Server = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const { port } = busy.address() as { port: number };
    try {
      const result = await runServer({ CLONE_PROXY_LISTEN: `127.0.0.1:${port}` });
      assert.equal(result.code, 2);
      assert.match(
        result.stderr,
        new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: address already in use`),
      );
    } finally {
      busy.close();
    }
  });

  it('should name an env file it cannot read, with exit code 2', async () => {
    const result = await runServer({}, [
      '--env-file',
      '/nonexistent/pve-clone-proxy',
      '--check-config',
    ]);
    assert.equal(result.code, 2);
    assert.match(
      result.stderr,
      /--env-file "\/nonexistent\/pve-clone-proxy" cannot be read \(ENOENT\)/,
    );
  });

  it('should refuse an env file line that is not KEY=value instead of swallowing the next', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const file = join(mkdtempSync(join(tmpdir(), 'clone-proxy-')), 'pve-clone-proxy');
    writeFileSync(file, 'this is not valid\nCLONE_PROXY_QUEUE_SIZE=abc\n');

    const result = await runServer({}, ['--env-file', file, '--check-config']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /line 1 is not KEY=value/);
  });

  it('should refuse an unknown CLONE_PROXY_ variable, such as a misspelt one', async () => {
    const result = await runServer({ CLONE_PROXY_POLL_INTERVALL: '1s' }, ['--check-config']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /unknown variable CLONE_PROXY_POLL_INTERVALL/);
  });

  it('should print the effective configuration from an env file', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'clone-proxy-'));
    const file = join(dir, 'pve-clone-proxy');
    writeFileSync(
      file,
      'CLONE_PROXY_QUEUE_SIZE="5"\nCLONE_PROXY_TARGET="https://pve.invalid:8006"\n',
    );

    const result = await runServer({ CLONE_PROXY_TARGET: 'https://127.0.0.1:8006' }, [
      '--env-file',
      file,
      '--check-config',
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^CLONE_PROXY_QUEUE_SIZE=5$/m);
    assert.match(result.stdout, /^CLONE_PROXY_TARGET=https:\/\/127\.0\.0\.1:8006$/m);
  });
});

/** Run a script in a fresh process from the project root; resolves with its stdout on exit. */
function runScript(script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--require', 'tsx/cjs', '-e', script], {
      cwd: join(__dirname, '..'),
      env: { PATH: process.env.PATH ?? '' },
    });
    let stdout = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.on('error', reject);
    child.on('exit', () => resolve(stdout));
  });
}

describe('pve-clone-proxy once listening', () => {
  it('should load undici after binding, not before, so the first clone does not wait for it', async () => {
    // A fresh process: in this one, other specs have long loaded undici.
    const script = `
      const { createCloneProxyServer } = require('./lib/server');
      const { loadServerConfig } = require('./lib/config/server-config');
      const loaded = () => Object.keys(require.cache).some((p) => /node_modules[\\\\/]undici[\\\\/]/.test(p));
      const server = createCloneProxyServer(loadServerConfig({
        CLONE_PROXY_LISTEN: '127.0.0.1:0', CLONE_PROXY_TARGET: 'https://127.0.0.1:9',
      }));
      const before = loaded();
      server.listen().then(() => {
        const atListen = loaded();
        setTimeout(() => {
          console.log(JSON.stringify({ before, atListen, after: loaded() }));
          server.close();
        }, 300);
      });`;
    const output = await runScript(script);

    assert.deepEqual(JSON.parse(output), { before: false, atListen: false, after: true });
  });

  it('should not load undici when closed right after listening', async () => {
    const script = `
      const { createCloneProxyServer } = require('./lib/server');
      const { loadServerConfig } = require('./lib/config/server-config');
      const loaded = () => Object.keys(require.cache).some((p) => /node_modules[\\\\/]undici[\\\\/]/.test(p));
      const server = createCloneProxyServer(loadServerConfig({
        CLONE_PROXY_LISTEN: '127.0.0.1:0', CLONE_PROXY_TARGET: 'https://127.0.0.1:9',
      }));
      server.listen().then(() => server.close()).then(() => setTimeout(() => {
        console.log(JSON.stringify({ after: loaded() }));
      }, 300));`;
    const output = await runScript(script);

    // Loading it then costs the stopping process a tenth of a second and leaves an open agent.
    assert.deepEqual(JSON.parse(output), { after: false });
  });
});
