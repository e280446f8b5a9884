import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

import { bareError, PveError } from './errors';
import { percentDecode } from './path';

/** Who made a request. `authid` is what a UPID names: `user@realm` or `user@realm!token`. */
export interface Identity {
  authid: string;
  userid: string;
  tokenid?: string;
}

export interface Login {
  username: string;
  ticket: string;
  CSRFPreventionToken: string;
}

export interface Auth {
  /**
   * Checks the credentials of a request (pve-manager PVE/HTTPServer.pm, auth_handler). Returns
   * undefined for the calls PVE allows without login; throws a bare 401 otherwise.
   */
  authenticate(method: string, relPath: string, headers: IncomingHttpHeaders): Identity | undefined;
  /** `POST /access/ticket`: a password, or a still valid ticket to renew. */
  login(username: string, password: string): Login;
  hasSysAudit(identity: Identity): boolean;
}

export interface AuthOptions {
  users: Record<string, string>;
  tokens: Record<string, string>;
  auditors: string[];
  ticketLifetimeMs: number;
}

/** Calls pveproxy answers without authentication, compared as exact strings. */
const OPEN_CALLS = new Set([
  'GET /access/domains',
  'GET /access/ticket',
  'POST /access/ticket',
  'POST /access/vncticket',
  'POST /access/openid/login',
  'POST /access/openid/auth-url',
]);

const TOKEN_ID = /^([^\s@!:]+@[A-Za-z][A-Za-z0-9.\-_]+)!([A-Za-z][A-Za-z0-9.\-_]+)$/;

export function createAuth(options: AuthOptions): Auth {
  const secret = randomBytes(32);
  // Issue times in milliseconds, so that tests can use ticket lifetimes below a second.
  const tickets = new Map<string, { userid: string; issuedAt: number }>();
  const csrfTokens = new Map<string, { userid: string; issuedAt: number }>();

  function isFresh(issuedAt: number): boolean {
    return Date.now() - issuedAt < options.ticketLifetimeMs;
  }

  function verifyTicket(ticket: string): string | undefined {
    const issued = tickets.get(ticket);
    if (!issued || !isFresh(issued.issuedAt)) return undefined;
    return Object.hasOwn(options.users, issued.userid) ? issued.userid : undefined;
  }

  function verifyToken(value: string): Identity | undefined {
    // Split at the last '=' (pve-access-control AccessControl.pm, verify_token); the
    // `user@realm!token:secret` spelling of Proxmox Backup Server has none and fails.
    const match = /^(.*)=(.*)$/.exec(value);
    if (!match) return undefined;

    const [, tokenid, given] = match;
    const parts = TOKEN_ID.exec(tokenid);
    if (!parts || !Object.hasOwn(options.tokens, tokenid)) return undefined;
    if (!sameText(options.tokens[tokenid], given)) return undefined;
    return { authid: tokenid, userid: parts[1], tokenid: parts[2] };
  }

  function issue(userid: string): Login {
    const hexTime = epochHex();
    const plain = `PVE:${userid.replace(/:/g, '%3A')}:${hexTime}`;
    const ticket = `${plain}::${signature(secret, plain)}`;
    // Perl's hmac_sha256_base64 leaves out the padding.
    const digest = createHmac('sha256', secret).update(`${hexTime}:${userid}`).digest('base64');
    const csrf = `${hexTime}:${digest.replace(/=+$/, '')}`;

    tickets.set(ticket, { userid, issuedAt: Date.now() });
    csrfTokens.set(csrf, { userid, issuedAt: Date.now() });
    return { username: userid, ticket, CSRFPreventionToken: csrf };
  }

  return {
    authenticate(method, relPath, headers) {
      if (OPEN_CALLS.has(`${method} ${relPath}`)) return undefined;

      const authorization = headerText(headers.authorization);
      // A cookie wins over the Authorization header; a token is only looked at without a ticket.
      const ticket =
        authValue(headerText(headers.cookie), 'PVEAuthCookie') ??
        authValue(authorization, 'PVEAuthCookie');

      if (!ticket) {
        const token = authValue(authorization, 'PVEAPIToken');
        if (!token) throw bareError(401, 'No ticket');

        const identity = verifyToken(token);
        if (!identity) throw bareError(401, 'Authentication failed!');
        return identity;
      }

      const userid = verifyTicket(ticket);
      if (!userid) throw bareError(401, 'Authentication failed!');

      // API tokens need no CSRF token; tickets do on every method but GET.
      if (method !== 'GET') {
        const csrf = csrfTokens.get(headerText(headers.csrfpreventiontoken) ?? '');
        if (!csrf || csrf.userid !== userid || !isFresh(csrf.issuedAt)) {
          throw bareError(401, 'Permission denied - invalid csrf token');
        }
      }
      return { authid: userid, userid };
    },

    login(username, password) {
      const known = Object.hasOwn(options.users, username);
      if (
        known &&
        (sameText(options.users[username], password) || verifyTicket(password) === username)
      ) {
        return issue(username);
      }
      // Deliberately generic, to not tell which part was wrong (pve-access-control
      // API2/AccessControl.pm, create_ticket).
      throw new PveError(401, 'authentication failure\n');
    },

    hasSysAudit: (identity) => options.auditors.includes(identity.authid),
  };
}

/**
 * `extract_auth_value` (pve-http-server Formatter.pm): the key, then `=` or a space, then the
 * value up to the next `;`, URL-decoded.
 */
function authValue(header: string | undefined, key: string): string | undefined {
  if (!header) return undefined;

  const match = new RegExp(`(?:^|\\s)${key}(?:=| )([^;]*)`).exec(header);
  return match?.[1] ? percentDecode(match[1]) : undefined;
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

function epochHex(): string {
  return Math.floor(Date.now() / 1000)
    .toString(16)
    .toUpperCase()
    .padStart(8, '0');
}

/** As long as PVE's base64 RSA-2048 signature, without the cost of an RSA key per instance. */
function signature(secret: Buffer, plain: string): string {
  const blocks = [0, 1, 2, 3].map((n) =>
    createHmac('sha512', secret).update(`${n}:${plain}`).digest(),
  );
  return Buffer.concat(blocks).toString('base64');
}

function sameText(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
