/**
 * Where an error is turned into bytes:
 * - `handler`: a PVE::Exception or a plain `die` inside an API handler; answered in the
 *   request's format (json/extjs/htmljs envelope).
 * - `server`: pve-http-server's own `error()` (AnyEvent.pm); since 5.2.0 the message is also
 *   the plain-text body.
 * - `bare`: a status line and no body (unknown method, authentication failures).
 */
export type PveErrorKind = 'handler' | 'server' | 'bare';

/** Thrown anywhere inside the double; `handle-request.ts` is the one place that answers it. */
export class PveError extends Error {
  readonly status: number;
  readonly kind: PveErrorKind;
  readonly errors?: Record<string, string>;

  constructor(
    status: number,
    message: string,
    options: { kind?: PveErrorKind; errors?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = 'PveError';
    this.status = status;
    this.kind = options.kind ?? 'handler';
    this.errors = options.errors;
  }
}

/** A Perl `die "...\n"` in a handler: HTTP 500, message with PVE's trailing newline. */
export function dieError(message: string): PveError {
  return new PveError(500, withNewline(message));
}

/** `raise_param_exc` (pve-common Exception.pm): 400 with per-parameter errors. */
export function paramError(errors: Record<string, string>): PveError {
  return new PveError(400, 'Parameter verification failed.\n', { errors });
}

/** `raise_perm_exc` (pve-common Exception.pm). */
export function permissionError(what?: string): PveError {
  const message =
    what === undefined ? 'Permission check failed' : `Permission check failed (${what})`;
  return new PveError(403, `${message}\n`);
}

export function serverError(status: number, message: string): PveError {
  return new PveError(status, message, { kind: 'server' });
}

export function bareError(status: number, reason: string): PveError {
  return new PveError(status, reason, { kind: 'bare' });
}

function withNewline(message: string): string {
  return message.endsWith('\n') ? message : `${message}\n`;
}
