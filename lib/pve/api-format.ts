import { splitTarget } from './clone-route';
import { decodePercentPath } from './percent-decode';

/** The response format of an API request (`json`, `extjs`, ...), `json` when there is none. */
export function parseApiFormat(target: string): string {
  const path = decodePercentPath(splitTarget(target).path);
  return /^\/api2\/+([a-z][a-z0-9]+)(?:\/|$)/.exec(path)?.[1] ?? 'json';
}
