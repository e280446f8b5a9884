import type { IncomingMessage } from 'node:http';

import type { ProxyConfig } from './config/proxy-config';
import { ADMIN_PREFIX } from './observe/admin-router';
import { parseCloneRoute } from './pve/clone-route';

/**
 * Whether a request needs the clone machinery (a clone, an admin path, a nextid call to
 * reserve) rather than plain passthrough. Cheap on purpose: it runs for every request, and what
 * it claims is checked exactly further in.
 */
export function claimsRequest(
  req: IncomingMessage,
  config: Pick<ProxyConfig, 'match' | 'nextid'>,
  admin: boolean,
): boolean {
  const target = req.url ?? '/';
  if (admin && target.startsWith(ADMIN_PREFIX)) return true;
  if (req.method === 'POST') return parseCloneRoute('POST', target, config.match) !== undefined;
  return config.nextid === 'reserve' && req.method === 'GET' && target.includes('nextid');
}
