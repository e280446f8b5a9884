import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';

import { ProxyError } from '../errors';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

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

  const parsed = parseEnv(text);
  for (const key of Object.keys(parsed)) {
    // Node's parser folds a line without `=` into the next key; catch that here.
    if (!ENV_NAME.test(key)) throw badLine(file, text, key);
  }
  return { ...parsed, ...env };
}

function badLine(file: string, text: string, key: string): ProxyError {
  const first = key.split('\n')[0];
  const line = text.split('\n').findIndex((candidate) => candidate.includes(first)) + 1;
  return new ProxyError(
    'CLONE_PROXY_CONFIG_INVALID',
    `--env-file ${JSON.stringify(file)}: line ${line} is not KEY=value (${JSON.stringify(first)}); for example CLONE_PROXY_QUEUE_SIZE="100"`,
  );
}
