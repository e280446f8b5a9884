import { ProxyError } from '../errors';
import type { PveAnswer } from '../pve/answer';
import { isCertificateError } from './tls-trust';

const TIMEOUT_CODES = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'ETIMEDOUT',
]);
const REFUSED_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/**
 * Turn a failed upstream request into the proxy's error with a message an operator can act on.
 * `sent` says whether PVE may already have received the request (then it may have acted on it).
 */
export function describeUpstreamFailure(error: unknown, target: string): ProxyError {
  if (error instanceof ProxyError) return error;

  const code = (error as { code?: string } | undefined)?.code ?? '';
  const detail = (error as Error | undefined)?.message ?? String(error);

  if (isCertificateError(error)) {
    return new ProxyError(
      'CLONE_PROXY_UPSTREAM_TLS',
      `PVE certificate at ${target} is not trusted (${code}); set CLONE_PROXY_CA_FILE or CLONE_PROXY_TLS_FINGERPRINT`,
      { cause: error },
    );
  }
  if (TIMEOUT_CODES.has(code)) {
    return new ProxyError(
      'CLONE_PROXY_UPSTREAM_TIMEOUT',
      `PVE at ${target} did not answer in time (${code})`,
      {
        cause: error,
      },
    );
  }
  if (REFUSED_CODES.has(code)) {
    return new ProxyError(
      'CLONE_PROXY_UPSTREAM_UNREACHABLE',
      `cannot reach PVE at ${target} (${code})`,
      {
        cause: error,
      },
    );
  }
  return new ProxyError(
    'CLONE_PROXY_UPSTREAM_RESET',
    `connection to PVE at ${target} failed (${code || detail})`,
    { cause: error },
  );
}

const NEVER_SENT_CODES = new Set([...REFUSED_CODES, 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * Whether PVE may have received the request before it failed. A refused or untrusted
 * connection never carried it; a reset or a timeout while waiting for the answer may have,
 * and PVE may then have started a task.
 */
export function mayHaveArrived(error: ProxyError): boolean {
  const code = (error.cause as { code?: string } | undefined)?.code ?? '';
  if (
    error.code === 'CLONE_PROXY_UPSTREAM_TLS' ||
    error.code === 'CLONE_PROXY_UPSTREAM_UNREACHABLE'
  ) {
    return false;
  }
  return !NEVER_SENT_CODES.has(code);
}

const GATEWAY_STATUSES = new Set([502, 503, 504]);

/**
 * An answer from something between us and PVE's handler rather than from the handler: PVE's
 * 595/596 pseudo-statuses (pveproxy could not get an answer from pvedaemon or another node in
 * time), or 502-504 from a reverse proxy in front of PVE. Undefined for anything else.
 */
export function describeGatewayAnswer(answer: PveAnswer, target: string): ProxyError | undefined {
  if (answer.status < 590 && !GATEWAY_STATUSES.has(answer.status)) return undefined;

  const code =
    answer.status === 504 ? 'CLONE_PROXY_UPSTREAM_TIMEOUT' : 'CLONE_PROXY_UPSTREAM_RESET';
  const line = `${answer.status} ${answer.reason}`.trim().slice(0, 200);
  return new ProxyError(code, `PVE at ${target} answered ${line}`, {
    cause: { code: `HTTP_${answer.status}` },
  });
}
