import type { ServerResponse } from 'node:http';

import type { PveAnswer } from '../pve/answer';

// Headers that describe PVE's connection to us, not ours to the client.
/** A reason phrase Node writes as sent: printable ASCII only (undici decodes it as UTF-8). */
function toPrintableReason(reason: string): string {
  return reason.replace(/[^\x20-\x7e]/g, '?').trim();
}

const NOT_RELAYED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length']);

/**
 * Write an answer to the client: status, reason phrase and body as given, headers in their
 * order minus hop-by-hop ones, and a Content-Length for the body. False if the client has gone.
 */
export function writeAnswer(res: ServerResponse, answer: PveAnswer): boolean {
  if (res.headersSent || res.writableEnded || res.destroyed) return false;

  const headers: string[] = [];
  for (let index = 0; index < answer.headers.length; index += 2) {
    if (NOT_RELAYED.has(answer.headers[index].toLowerCase())) continue;
    headers.push(answer.headers[index], answer.headers[index + 1]);
  }
  headers.push('Content-Length', String(answer.body.length));

  try {
    res.writeHead(answer.status, toPrintableReason(answer.reason), headers);
  } catch {
    // A header value Node will not write (a hostile upstream): the answer cannot be relayed.
    res.writeHead(502, 'Bad Gateway', ['Content-Type', 'text/plain', 'Content-Length', '0']);
    res.end();
    return true;
  }
  res.end(answer.body);
  return true;
}
