/** Parameter values as PVE sees them after merging; a repeated key keeps every value. */
export type PveParams = Record<string, string | string[]>;

/**
 * Merge a request's parameters the way pve-http-server does (`extract_params`): the body
 * (form, or JSON when the media type says so) first, then the query string on top, so that
 * `?newid=300` wins over `newid=200` in the body. `_dc`, the GUI's cache buster, is dropped.
 * The bytes we forward are never rebuilt from this; it only tells us what PVE will act on.
 */
export function parsePveParams(query: string, body: Buffer, contentType?: string): PveParams {
  const params: PveParams = {};

  if (body.length > 0) {
    if (mediaType(contentType) === 'application/json') mergeJson(params, body);
    else mergeForm(params, body.toString('utf8'));
  }
  const fromQuery: PveParams = {};
  mergeForm(fromQuery, query);
  Object.assign(params, fromQuery);

  delete params._dc;
  return params;
}

/** A single parameter value, or undefined when absent or repeated. */
export function readParam(params: PveParams, name: string): string | undefined {
  const value = params[name];
  return typeof value === 'string' ? value : undefined;
}

function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0].trim();
}

// Pairs split on `&` or `;`, `+` is a space, `%XX` decoded in keys and values
// (pve-http-server AnyEvent.pm, decode_urlencoded).
function mergeForm(params: PveParams, text: string): void {
  for (const pair of text.split(/[&;]/)) {
    if (pair === '') continue;

    // Perl's `my ($k, $v) = split(/=/, $pair)`: a second `=` ends the value (`newid=201=x` is 201).
    const [rawKey, rawValue = ''] = pair.split('=');
    const key = decodeFormPart(rawKey);
    const value = decodeFormPart(rawValue);
    addValue(params, key, value);
  }
}

function mergeJson(params: PveParams, body: Buffer): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return;

  for (const [key, value] of Object.entries(parsed)) {
    if (value === null || value === undefined) continue;
    addValue(params, key, typeof value === 'object' ? JSON.stringify(value) : String(value));
  }
}

function addValue(params: PveParams, key: string, value: string): void {
  const existing = params[key];
  if (existing === undefined) params[key] = value;
  else if (Array.isArray(existing)) existing.push(value);
  else params[key] = [existing, value];
}

function decodeFormPart(part: string): string {
  const spaced = part.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced.replace(/%([0-9A-Fa-f]{2})/g, (_m, hex: string) =>
      String.fromCharCode(Number.parseInt(hex, 16)),
    );
  }
}
