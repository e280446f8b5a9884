import { createHash } from 'node:crypto';

import type { CloneRoute } from '../pve/clone-route';
import type { PveParams } from '../pve/params';

/** What of a clone request decides whether another one is the same. */
export interface CloneIdentity {
  route: CloneRoute;
  params: PveParams;
  credentials: string[];
  contentType: string | undefined;
  body: Buffer;
}

/**
 * A digest that is equal for clones PVE would treat as the same request: same format, node,
 * source and merged parameters (query over body, as PVE merges them), the same body type (a
 * form `full=true` is refused where JSON `true` is not), and the same credentials. A JSON body
 * PVE cannot parse counts by its bytes, so it never matches a valid one. Credentials count so
 * that one user's retry never receives another's answer; they only enter the digest, never a
 * log or the status page.
 */
export function createCloneKey(identity: CloneIdentity): string {
  const { route, params, credentials } = identity;
  const mediaType = (identity.contentType ?? '').split(';')[0].trim().toLowerCase();
  const unparsed =
    mediaType === 'application/json' && !isJsonObject(identity.body)
      ? identity.body.toString('base64')
      : '';
  const sorted = Object.keys(params)
    .sort()
    .map((name) => [name, params[name]]);
  const credentialPairs: string[] = [];
  for (let index = 0; index < credentials.length; index += 2) {
    credentialPairs.push(`${credentials[index].toLowerCase()}:${credentials[index + 1]}`);
  }

  return createHash('sha256')
    .update(
      JSON.stringify([
        route.format,
        route.node,
        route.vmid,
        mediaType,
        unparsed,
        sorted,
        credentialPairs.sort(),
      ]),
    )
    .digest('hex');
}

function isJsonObject(body: Buffer): boolean {
  if (body.length === 0) return true;
  try {
    const parsed = JSON.parse(body.toString('utf8')) as unknown;
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed);
  } catch {
    return false;
  }
}
