import { createHash } from 'node:crypto';

import type { CloneRoute } from '../pve/clone-route';
import type { PveParams } from '../pve/params';

/**
 * A digest that is equal for clones PVE would treat as the same request: same format, node,
 * source and merged parameters (query over body, as PVE merges them), sent with the same
 * credentials. Credentials count so that one user's retry never receives another's answer;
 * they only enter the digest, never a log or the status page.
 */
export function createCloneKey(
  route: CloneRoute,
  params: PveParams,
  credentials: string[],
): string {
  const sorted = Object.keys(params)
    .sort()
    .map((name) => [name, params[name]]);
  const credentialPairs: string[] = [];
  for (let index = 0; index < credentials.length; index += 2) {
    credentialPairs.push(`${credentials[index].toLowerCase()}:${credentials[index + 1]}`);
  }

  return createHash('sha256')
    .update(JSON.stringify([route.format, route.node, route.vmid, sorted, credentialPairs.sort()]))
    .digest('hex');
}
