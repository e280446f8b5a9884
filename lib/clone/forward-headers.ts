import type { IncomingMessage } from 'node:http';

// RFC 9110 section 7.6.1 plus the old proxy ones. `host` and `content-length` are set anew:
// the host is PVE's, and the length is that of the body we actually send.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
  'host',
  'content-length',
]);

// What PVE needs to know who is asking (pve-http-server AnyEvent.pm, auth handling).
const CREDENTIAL_HEADERS = new Set(['authorization', 'cookie', 'csrfpreventiontoken']);

/** The client's headers for the clone request to PVE, plus the usual forwarding headers. */
export function createForwardHeaders(req: IncomingMessage): string[] {
  const dropped = new Set(HOP_BY_HOP);
  for (const token of String(req.headers.connection ?? '').split(',')) {
    if (token.trim()) dropped.add(token.trim().toLowerCase());
  }

  const headers: string[] = [];
  for (let index = 0; index < req.rawHeaders.length; index += 2) {
    const name = req.rawHeaders[index];
    const lower = name.toLowerCase();
    if (dropped.has(lower) || lower.startsWith('x-forwarded-')) continue;
    headers.push(name, req.rawHeaders[index + 1]);
  }

  const forwardedFor = req.headers['x-forwarded-for'];
  const address = req.socket.remoteAddress ?? '';
  headers.push('X-Forwarded-For', forwardedFor ? `${forwardedFor}, ${address}` : address);
  headers.push('X-Forwarded-Proto', 'encrypted' in req.socket ? 'https' : 'http');
  if (req.headers.host) headers.push('X-Forwarded-Host', req.headers.host);

  return headers;
}

/** Only the credential headers, for the task polls made on the client's behalf. */
export function pickCredentialHeaders(req: IncomingMessage): string[] {
  const headers: string[] = [];
  for (let index = 0; index < req.rawHeaders.length; index += 2) {
    if (CREDENTIAL_HEADERS.has(req.rawHeaders[index].toLowerCase())) {
      headers.push(req.rawHeaders[index], req.rawHeaders[index + 1]);
    }
  }
  return headers;
}
