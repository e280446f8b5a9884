/**
 * An HTTP answer as PVE (or the proxy on PVE's behalf) sends it: status, reason phrase, raw
 * header pairs in their original order and spelling, and the body bytes.
 */
export interface PveAnswer {
  status: number;
  reason: string;
  /** Flat list of names and values, as Node's `rawHeaders`. */
  headers: string[];
  body: Buffer;
}

/** The first value of a header, compared case-insensitively. */
export function findHeader(answer: PveAnswer, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (let index = 0; index < answer.headers.length; index += 2) {
    if (answer.headers[index].toLowerCase() === wanted) return answer.headers[index + 1];
  }
  return undefined;
}

/** A copy of the answer with extra headers appended (existing ones of that name replaced). */
export function withHeaders(answer: PveAnswer, extra: Record<string, string>): PveAnswer {
  const replaced = new Set(Object.keys(extra).map((name) => name.toLowerCase()));
  const headers: string[] = [];
  for (let index = 0; index < answer.headers.length; index += 2) {
    if (replaced.has(answer.headers[index].toLowerCase())) continue;
    headers.push(answer.headers[index], answer.headers[index + 1]);
  }
  for (const [name, value] of Object.entries(extra)) headers.push(name, value);

  return { ...answer, headers };
}

/**
 * The `data` member of a JSON envelope (`{"data": ...}`), or undefined when the body is not
 * one (HTML, empty, compressed): callers then relay or retry instead of guessing.
 */
export function readEnvelopeData(answer: PveAnswer): unknown {
  try {
    const parsed = JSON.parse(answer.body.toString('utf8')) as unknown;
    if (parsed && typeof parsed === 'object' && 'data' in parsed) return parsed.data;
  } catch {
    // not JSON
  }
  return undefined;
}
