import type { ProxyError } from '../errors';
import type { PveAnswer } from '../pve/answer';
import type { CloneRoute } from '../pve/clone-route';
import { createErrorAnswer } from '../pve/envelope';

/** The proxy's own answer for a clone it will not send, in the envelope of the request's format. */
export function createRefusalAnswer(
  route: CloneRoute,
  requestId: string,
  error: ProxyError,
  retryAfterSeconds?: number,
): PveAnswer {
  const headers: Record<string, string> = {
    'X-Clone-Proxy-Request-Id': requestId,
    'X-Clone-Proxy-Error': error.code,
  };
  if (retryAfterSeconds !== undefined) headers['Retry-After'] = String(retryAfterSeconds);
  return createErrorAnswer(route.format, error.status, error.message, headers);
}
