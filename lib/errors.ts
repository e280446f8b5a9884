/** Stable codes for every failure the proxy itself can report. Users match on `code`. */
export type ProxyErrorCode =
  | 'CLONE_PROXY_QUEUE_FULL'
  | 'CLONE_PROXY_QUEUE_TIMEOUT'
  | 'CLONE_PROXY_SHUTTING_DOWN'
  | 'CLONE_PROXY_LOCK_UNAVAILABLE'
  | 'CLONE_PROXY_BODY_TOO_LARGE'
  | 'CLONE_PROXY_UPSTREAM_UNREACHABLE'
  | 'CLONE_PROXY_UPSTREAM_TLS'
  | 'CLONE_PROXY_UPSTREAM_TIMEOUT'
  | 'CLONE_PROXY_UPSTREAM_RESET'
  | 'CLONE_PROXY_CONFIG_INVALID'
  | 'CLONE_PROXY_LISTEN_FAILED'
  | 'CLONE_PROXY_INTERNAL'
  | 'CLONE_PROXY_NO_CREDENTIALS'
  | 'CLONE_PROXY_FORMAT_UNSUPPORTED';

/** How each code reaches a client: HTTP status, and whether a retry later may work. */
export const ERROR_STATUS: Record<ProxyErrorCode, { status: number; retryAfter?: boolean }> = {
  CLONE_PROXY_QUEUE_FULL: { status: 503, retryAfter: true },
  CLONE_PROXY_QUEUE_TIMEOUT: { status: 503, retryAfter: true },
  CLONE_PROXY_SHUTTING_DOWN: { status: 503, retryAfter: true },
  // The shared lane lock (Redis) cannot be reached and CLONE_PROXY_REDIS_FAILURE=closed.
  CLONE_PROXY_LOCK_UNAVAILABLE: { status: 503, retryAfter: true },
  // PVE's own answer to an oversize body (pve-http-server AnyEvent.pm: "for data too large").
  CLONE_PROXY_BODY_TOO_LARGE: { status: 501 },
  CLONE_PROXY_UPSTREAM_UNREACHABLE: { status: 502 },
  CLONE_PROXY_UPSTREAM_TLS: { status: 502 },
  CLONE_PROXY_UPSTREAM_RESET: { status: 502 },
  CLONE_PROXY_UPSTREAM_TIMEOUT: { status: 504 },
  CLONE_PROXY_CONFIG_INVALID: { status: 500 },
  CLONE_PROXY_LISTEN_FAILED: { status: 500 },
  // A fault of the proxy itself; the log line says what.
  CLONE_PROXY_INTERNAL: { status: 500 },
  // PVE's own answer to a call without ticket or token (pve-manager PVE/HTTPServer.pm).
  CLONE_PROXY_NO_CREDENTIALS: { status: 401 },
  // A clone through a format whose answer carries no readable UPID (html, png, spiceconfig).
  CLONE_PROXY_FORMAT_UNSUPPORTED: { status: 501 },
};

/** The one error class of the proxy; the original failure, if any, is kept as `cause`. */
export class ProxyError extends Error {
  readonly code: ProxyErrorCode;

  constructor(code: ProxyErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProxyError';
    this.code = code;
  }

  get status(): number {
    return ERROR_STATUS[this.code].status;
  }
}

export function isProxyError(error: unknown): error is ProxyError {
  return error instanceof ProxyError;
}
