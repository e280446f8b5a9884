import type { PveAnswer } from '../pve/answer';
import { decodeHtmlEntities } from '../pve/envelope';
import { parseUpid, type Upid } from '../pve/upid';

/** What PVE's answer to a clone POST says: a started task, or not (and why not, if odd). */
export type CloneAcceptance =
  | { accepted: true; upid: Upid }
  | { accepted: false; unexpected?: string };

/**
 * Read PVE's answer to a clone POST. Only a 200 whose `data` is a well-formed UPID means a task
 * was started; extjs errors are also 200 but carry `success: 0` and no UPID. An answer that is
 * neither a PVE error nor a UPID is flagged `unexpected` so it can be logged.
 */
export function readCloneAcceptance(answer: PveAnswer, format: string): CloneAcceptance {
  if (answer.status !== 200) return { accepted: false };

  const data = readData(answer, format);
  if (data === undefined) return { accepted: false, unexpected: 'body is not a PVE envelope' };
  if (data === null) return { accepted: false };

  const upid = parseUpid(data);
  if (!upid) return { accepted: false, unexpected: 'data is not a well-formed UPID' };
  return { accepted: true, upid };
}

function readData(answer: PveAnswer, format: string): unknown {
  let text = answer.body.toString('utf8');
  if (format === 'htmljs') text = decodeHtmlEntities(text);

  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed && typeof parsed === 'object' && 'data' in parsed) return parsed.data;
  } catch {
    // Not JSON (HTML, compressed, empty): the caller relays it as it is.
  }
  return undefined;
}
