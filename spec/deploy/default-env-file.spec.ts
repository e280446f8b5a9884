import assert from 'node:assert/strict';
import { parseEnv } from 'node:util';

import { loadServerConfig, SERVER_VARIABLES } from '../../lib/config/server-config';
import { readRecipe } from './support/recipe';

const ASSIGNMENT = /^#?(CLONE_PROXY_[A-Z_]+)=(.*)$/;

describe('docs/deploy/pve-clone-proxy.default', () => {
  const lines = readRecipe('pve-clone-proxy.default').split('\n');
  const assignments = lines.filter((line) => ASSIGNMENT.test(line));

  it('should name every variable the server reads, once, and no other', () => {
    const names = assignments.map((line) => ASSIGNMENT.exec(line)?.[1] ?? '');
    assert.deepEqual(names.toSorted(), Object.keys(SERVER_VARIABLES).toSorted());
  });

  it('should leave every variable commented out', () => {
    for (const line of assignments) assert.ok(line.startsWith('#'), line);
  });

  it('should show the real defaults: uncommented, it changes nothing', () => {
    const uncommented = assignments.map((line) => line.slice(1)).join('\n');
    assert.deepEqual(loadServerConfig(parseEnv(uncommented)), loadServerConfig({}));
  });

  it('should hold values that systemd and the --env-file reader take alike', () => {
    // EnvironmentFile= keeps a trailing "# comment" and inner quotes as part of the value;
    // plain values without them read the same in both.
    for (const line of assignments) assert.match(line, /^#?[A-Z_]+=[^\s"'#\\]*$/);
  });
});
