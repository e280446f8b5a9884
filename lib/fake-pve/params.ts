import { paramError, serverError } from './errors';

/**
 * Request parameters as PVE holds them before schema validation: a string from a form or query,
 * an array for a repeated key, `null` for a key without a value, or any JSON value.
 */
export type ParamMap = Map<string, unknown>;

/**
 * Form/query decoding as pve-http-server's `decode_urlencoded` (AnyEvent.pm): pairs split on
 * `&` or `;`; `+` is a space; `%XX` decoded as bytes, values read as UTF-8; a repeated key
 * becomes an array; a key without `=` (or with an empty value) is undefined.
 *
 * Quirk kept on purpose: the pair is split on every `=` and only the first two parts are kept,
 * so `description=a=b` stores `a`. Clients must send `=` in values as `%3D`.
 */
export function decodeUrlencoded(data: string): ParamMap {
  const result: ParamMap = new Map();

  for (const pair of perlSplit(data, /[&;]/)) {
    const [rawKey = '', rawValue] = perlSplit(pair, /=/);
    const key = decodeComponent(rawKey);

    if (rawValue === undefined) {
      result.set(key, null);
      continue;
    }

    const value = decodeComponent(rawValue);
    const old = result.get(key);
    if (Array.isArray(old)) old.push(value);
    else result.set(key, typeof old === 'string' ? [old, value] : value);
  }
  return result;
}

/** The media type of a Content-Type header, compared case-sensitively by PVE. */
export function parseContentType(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  return header.split(/\s*[;,]\s*/)[0];
}

/**
 * Merges body and query parameters (AnyEvent.pm, extract_params): a JSON body is used as is, any
 * other body is read as a form, and query parameters replace body parameters of the same name.
 * The `_dc` cache buster is dropped.
 */
export function extractParams(
  method: string,
  contentType: string | undefined,
  body: Buffer,
  query: string,
): ParamMap {
  let params: ParamMap = new Map();

  if (method === 'POST' || method === 'PUT') {
    params =
      parseContentType(contentType) === 'application/json'
        ? parseJsonBody(body)
        : decodeUrlencoded(body.toString('latin1'));
  }

  for (const [key, value] of decodeUrlencoded(query)) params.set(key, value);
  params.delete('_dc');
  return params;
}

/**
 * Adds the URL's template values to the parameters. A body or query parameter of the same name
 * must carry the same value, compared as Perl strings (pve-manager PVE/HTTPServer.pm,
 * rest_handler).
 */
export function mergeUriParams(params: ParamMap, uri: Record<string, string>): ParamMap {
  for (const key of [...params.keys()].sort()) {
    const value = uri[key];
    if (value !== undefined && value !== perlString(params.get(key))) {
      throw paramError({
        [key]: 'duplicate parameter (already defined in URI) with conflicting values!',
      });
    }
  }

  const merged: ParamMap = new Map(params);
  for (const [key, value] of Object.entries(uri)) merged.set(key, value);
  return merged;
}

/** How Perl would print a decoded value in a string comparison; arrays never match. */
export function perlString(value: unknown): string | undefined {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? '1' : '0';
  return undefined;
}

/** Perl's truth test on a verified value: missing, empty and `0` are false. */
export function isPerlTrue(value: string | undefined): value is string {
  return value !== undefined && value !== '' && value !== '0';
}

function parseJsonBody(body: Buffer): ParamMap {
  let decoded: unknown;
  try {
    decoded = JSON.parse(body.toString('utf8'));
  } catch (err) {
    // Raised inside pve-http-server's own eval, so it is a server-level 500 with a text body.
    // Perl's decode_json words the detail differently; the status and the first words match.
    throw serverError(500, `malformed JSON string: ${(err as Error).message}\n`);
  }

  if (decoded === null || typeof decoded !== 'object' || Array.isArray(decoded)) {
    throw serverError(500, 'Not a HASH reference\n');
  }
  return new Map(Object.entries(decoded));
}

/** Perl's `split`: like JavaScript's, but trailing empty fields are removed. */
function perlSplit(text: string, separator: RegExp): string[] {
  const parts = text.split(separator);
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

// `%XX` becomes its byte, everything else stays the byte it was (the text holds the body's bytes
// as latin1 characters), and the result is read as UTF-8. One regular expression pass: a
// 64 KiB form body must not cost a slice per byte.
function decodeComponent(text: string): string {
  const spaced = text.replace(/\+/g, ' ');
  const bytes = spaced.includes('%')
    ? spaced.replace(/%([0-9a-fA-F]{2})/g, (_match, hex: string) =>
        String.fromCharCode(Number.parseInt(hex, 16)),
      )
    : spaced;
  return Buffer.from(bytes, 'latin1').toString('utf8');
}
