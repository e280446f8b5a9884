const PERCENT_BYTE = /%([0-9A-Fa-f]{2})/g;

/**
 * Percent-decode a URL path the way PVE's `uri_unescape` does: every valid `%XX` becomes its
 * byte (including `%2F`, which becomes a real `/`), invalid escapes stay as they are, and the
 * bytes are read as UTF-8.
 */
export function decodePercentPath(path: string): string {
  if (!path.includes('%')) return path;

  const bytes: number[] = [];
  let last = 0;
  for (const match of path.matchAll(PERCENT_BYTE)) {
    const index = match.index ?? 0;
    pushUtf8(bytes, path.slice(last, index));
    bytes.push(Number.parseInt(match[1], 16));
    last = index + match[0].length;
  }
  pushUtf8(bytes, path.slice(last));

  return Buffer.from(bytes).toString('utf8');
}

function pushUtf8(bytes: number[], text: string): void {
  for (const byte of Buffer.from(text, 'utf8')) bytes.push(byte);
}
