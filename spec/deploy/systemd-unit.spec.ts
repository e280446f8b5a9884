import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { parseDuration } from '../../lib/config/duration';
import { DEFAULT_OPTIONS } from '../../lib/config/proxy-config';
import { findMissingCommand } from './support/front-process';
import { readRecipe } from './support/recipe';

const UNIT = 'pve-clone-proxy.service';
const DROP_IN = 'pve-clone-proxy.service.d/credentials.conf';

/** Section name to key to every value given, in order (a unit may repeat a key). */
type UnitFile = Map<string, Map<string, string[]>>;

function parseUnitFile(text: string): UnitFile {
  const sections: UnitFile = new Map();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = sections.get(header[1]) ?? new Map();
      sections.set(header[1], current);
      continue;
    }
    const equals = line.indexOf('=');
    assert.ok(current && equals > 0, `not a unit file line: ${line}`);
    const key = line.slice(0, equals).trim();
    current.set(key, [...(current.get(key) ?? []), line.slice(equals + 1).trim()]);
  }
  return sections;
}

/** A systemd time span such as `90s`, `1min 30s` or `90` (seconds) in milliseconds. */
function parseTimeSpanMs(text: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, sec: 1000, m: 60_000, min: 60_000 };
  let total = 0;
  for (const part of text.trim().split(/\s+/)) {
    const match = /^(\d+)([a-z]*)$/.exec(part);
    const unit = match && (match[2] === '' ? 1000 : units[match[2]]);
    assert.ok(match && unit, `not a time span this spec reads: ${text}`);
    total += Number(match[1]) * unit;
  }
  return total;
}

/** The unit's copy with ExecStart on a binary that exists here, plus the drop-in beside it. */
function stageUnit(dir: string, execStart: string): string {
  const unit = readRecipe(UNIT).replace(/^ExecStart=\S+/m, `ExecStart=${execStart}`);
  writeFileSync(join(dir, UNIT), unit);
  mkdirSync(join(dir, `${UNIT}.d`));
  writeFileSync(join(dir, DROP_IN), readRecipe(DROP_IN));
  return join(dir, UNIT);
}

function analyze(args: string[], dir: string) {
  // SYSTEMD_UNIT_PATH puts the temp dir first, so the drop-in next to the copy is read too;
  // the trailing colon keeps the built-in search path for targets such as network-online.
  return spawnSync('systemd-analyze', args, {
    encoding: 'utf8',
    timeout: 10_000,
    env: { ...process.env, SYSTEMD_UNIT_PATH: `${dir}:`, SYSTEMD_LOG_COLOR: '0' },
  });
}

describe('docs/deploy/pve-clone-proxy.service', () => {
  const unit = parseUnitFile(readRecipe(UNIT));
  const service = unit.get('Service') ?? new Map<string, string[]>();
  const only = (key: string) => {
    const values = service.get(key) ?? [];
    assert.equal(values.length, 1, `[Service] ${key}= should be set once, is ${values}`);
    return values[0];
  };

  describe('systemd-analyze', () => {
    const missing = findMissingCommand('systemd-analyze', ['--version']);
    let dir = '';
    let staged = '';

    before(() => {
      if (missing) return;
      dir = mkdtempSync(join(tmpdir(), 'pve-clone-proxy-unit-'));
      staged = stageUnit(dir, process.execPath);
    });

    after(() => {
      if (dir) rmSync(dir, { recursive: true });
    });

    beforeEach(function () {
      if (missing && this.currentTest) {
        this.currentTest.title += ` (skipped: ${missing})`;
        this.skip();
      }
    });

    it('should verify the unit and its credentials drop-in without a warning', function () {
      // Probe first: where verify cannot run at all, say so instead of failing on our unit.
      const probe = join(dir, 'probe.service');
      writeFileSync(probe, `[Service]\nExecStart=${process.execPath} --version\n`);
      const probed = analyze(['verify', '--man=no', probe], dir);
      if (probed.status !== 0) {
        if (this.test) this.test.title += ` (skipped: verify cannot run here: ${probed.stderr})`;
        this.skip();
      }

      const verified = analyze(['verify', '--man=no', staged], dir);
      assert.equal(verified.status, 0, verified.stderr);
      assert.equal(verified.stderr.trim(), '');
    });

    it('should score an exposure of 2.0 or less in the offline security review', function () {
      const review = analyze(['security', '--offline=yes', '--no-pager', staged], dir);
      const overall = /Overall exposure level for \S+: (\d+\.\d)/.exec(review.stdout);
      if (review.status !== 0 && !overall) {
        if (this.test) this.test.title += ` (skipped: no offline review here: ${review.stderr})`;
        this.skip();
      }
      assert.ok(overall, review.stdout);
      assert.ok(Number(overall[1]) <= 2, `exposure ${overall[1]}:\n${review.stdout}`);
    });
  });

  it('should run the command npm install -g links, as a throwaway user', () => {
    const bin = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')).bin;
    assert.deepEqual(Object.keys(bin), ['pve-clone-proxy']);
    assert.equal(only('ExecStart'), '/usr/bin/pve-clone-proxy');
    assert.equal(only('DynamicUser'), 'yes');
    assert.equal(only('EnvironmentFile'), '-/etc/default/pve-clone-proxy');
  });

  it('should sandbox the service and leave the JIT its executable memory', () => {
    const expected: Record<string, string> = {
      ProtectSystem: 'strict',
      ProtectHome: 'yes',
      PrivateTmp: 'yes',
      PrivateDevices: 'yes',
      NoNewPrivileges: 'yes',
      CapabilityBoundingSet: '',
      RestrictAddressFamilies: 'AF_INET AF_INET6 AF_UNIX',
      RestrictNamespaces: 'yes',
      ProtectKernelTunables: 'yes',
      ProtectKernelModules: 'yes',
      ProtectControlGroups: 'yes',
      LockPersonality: 'yes',
      SystemCallFilter: '@system-service',
    };
    for (const [key, value] of Object.entries(expected)) assert.equal(only(key), value, key);
    assert.equal(service.has('MemoryDenyWriteExecute'), false);
  });

  it('should restart on failure but not on a bad setting (exit status 2)', () => {
    assert.equal(only('Restart'), 'on-failure');
    assert.deepEqual(only('RestartPreventExitStatus').split(/\s+/), ['2']);
    assert.equal(only('KillSignal'), 'SIGTERM');
  });

  it('should give the drain on SIGTERM more time than the default shutdown timeout', () => {
    const shutdownMs = parseDuration(DEFAULT_OPTIONS.shutdownTimeout) ?? Number.NaN;
    // After the shutdown timeout the server still gives open passthrough requests 2 s and
    // writes its last log line; 10 s of margin covers both on a loaded host.
    const stopMs = parseTimeSpanMs(only('TimeoutStopSec'));
    assert.ok(stopMs >= shutdownMs + 10_000, `TimeoutStopSec ${stopMs} ms vs ${shutdownMs} ms`);
  });
});
