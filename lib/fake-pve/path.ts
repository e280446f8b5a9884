export interface RequestTarget {
  /** The percent-decoded path. */
  path: string;
  /** The raw query string, without `?`. */
  query: string;
}

export interface ApiPath {
  format: string;
  /** The API path after the format, as decoded (double slashes kept); `/` when empty. */
  relPath: string;
}

const ABSOLUTE_FORM = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/;

/**
 * Splits a raw request target the way pveproxy sees it: an absolute-form target is cut down to
 * its path, and the path is percent-decoded before any matching (pve-http-server AnyEvent.pm,
 * `uri_unescape($request->uri->path())`), so `%2F` becomes a real `/`.
 */
export function parseRequestTarget(rawUrl: string): RequestTarget {
  const withoutAuthority = rawUrl.replace(ABSOLUTE_FORM, '');
  const queryAt = withoutAuthority.indexOf('?');
  const rawPath = queryAt === -1 ? withoutAuthority : withoutAuthority.slice(0, queryAt);
  const query = queryAt === -1 ? '' : withoutAuthority.slice(queryAt + 1);

  return { path: percentDecode(rawPath), query };
}

/**
 * `/api2`, one or more slashes, then a format of `[a-z][a-z0-9]+` (AnyEvent.pm, $split_abs_uri).
 * The format is not checked against the known ones here; that happens after authentication.
 */
export function parseApiPath(path: string): ApiPath | undefined {
  const match = /^\/api2\/+([a-z][a-z0-9]+)(\/.*)?$/.exec(path);
  if (!match) return undefined;

  return { format: match[1], relPath: match[2] || '/' };
}

/** Splits on runs of `/` and drops empty segments (pve-common RESTHandler.pm, find_handler). */
export function splitSegments(relPath: string): string[] {
  return relPath.split(/\/+/).filter((segment) => segment !== '');
}

/** Decodes `%XX` as bytes, then reads the bytes as UTF-8; malformed escapes stay as they are. */
export function percentDecode(text: string): string {
  if (!text.includes('%')) return text;

  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const hex = text.slice(i + 1, i + 3);
    if (text[i] === '%' && /^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(text[i], 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
