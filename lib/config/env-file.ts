import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';

import { ProxyError } from '../errors';

/**
 * Read `KEY="value"` lines (the `/etc/default/pve-clone-proxy` form) with Node's own parser
 * and lay the real environment on top, so that variables set by the caller win.
 */
export function mergeEnvFile(file: string, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ProxyError(
      'CLONE_PROXY_CONFIG_INVALID',
      `--env-file ${JSON.stringify(file)} cannot be read (${reason}); for example --env-file /etc/default/pve-clone-proxy`,
      { cause: error },
    );
  }

  return { ...parseEnv(text), ...env };
}
