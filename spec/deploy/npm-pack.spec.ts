import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

interface PackedFile {
  path: string;
}

let packed: string[] | undefined;

/** The files `npm install pve-clone-proxy` would get, from `npm pack --dry-run --json`. */
function listPackedFiles(): string[] {
  packed ??= runPackDryRun();
  return packed;
}

function runPackDryRun(): string[] {
  const output = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 30_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const [pack] = JSON.parse(output) as { files: PackedFile[] }[];
  return pack.files.map((file) => file.path).sort();
}

// What a user needs: the compiled code with its types and maps, the docs, the README and the
// licence. Sources, specs, fixtures and tool configs stay home.
const SHIPPED = [
  /^package\.json$/,
  /^README\.md$/,
  /^LICEN[CS]E(\.md)?$/,
  /^dist\/(lib|bin)\/.+\.(js|d\.ts|js\.map)$/,
  /^docs\/.+/,
];

describe('the npm package', () => {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

  it('should ship only built code, docs, README and package.json', () => {
    const unexpected = listPackedFiles().filter((path) => !SHIPPED.some((re) => re.test(path)));
    assert.deepEqual(unexpected, []);
  });

  it('should ship the entry points and the deployment files after a build', function () {
    // CI builds before it tests; a bare checkout is built here once.
    if (!existsSync(join(ROOT, 'dist', 'bin'))) {
      this.timeout(120_000);
      execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore', timeout: 110_000 });
      packed = undefined;
    }
    const files = listPackedFiles();
    const binPath = manifest.bin['pve-clone-proxy'];

    for (const path of [
      binPath,
      manifest.main,
      manifest.types,
      'docs/deployment.md',
      'docs/deploy/pve-clone-proxy.service',
      'docs/deploy/pve-clone-proxy.default',
    ]) {
      assert.ok(files.includes(path), `${path} is not in the package`);
    }
    assert.deepEqual(
      files.filter((path) => /(^|\/)(spec|fixtures)\//.test(path)),
      [],
    );
    const firstLine = readFileSync(join(ROOT, binPath), 'utf8').split('\n')[0];
    // `--` ends Node's own options, so Node 20 does not take our --env-file for its own flag.
    assert.equal(
      firstLine,
      '#!/usr/bin/env -S node --',
      'npm links the bin as an executable script',
    );

    // Run it as an installed command is run: by its shebang, with a file Node would choke on.
    chmodSync(join(ROOT, binPath), 0o755);
    const run = spawnSync(
      join(ROOT, binPath),
      ['--env-file', '/nonexistent/env', '--check-config'],
      {
        encoding: 'utf8',
        timeout: 10_000,
      },
    );
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr, /--env-file "\/nonexistent\/env" cannot be read \(ENOENT\)/);
  });

  it('should ship the README', function () {
    if (!existsSync(join(ROOT, 'README.md'))) {
      if (this.test) this.test.title += ' (skipped: there is no README.md yet)';
      this.skip();
    }
    assert.ok(listPackedFiles().includes('README.md'));
  });
});
