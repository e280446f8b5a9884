import { STATUS_CODES } from 'node:http';

import type { PveError } from './errors';

/** Formats pve-http-server registers; all of them run the handler (Formatter/Standard.pm). */
export const KNOWN_FORMATS = new Set(['json', 'extjs', 'htmljs', 'html', 'png', 'spiceconfig']);

export interface Answer {
  status: number;
  reason: string;
  body: string;
  contentType?: string;
  headers?: Record<string, string>;
}

const JSON_TYPE = 'application/json;charset=UTF-8';
const HTML_TYPE = 'text/html;charset=UTF-8';

/** The HTTP reason phrase PVE sends: the message's first line, else the standard phrase. */
export function reasonPhrase(status: number, message: string | undefined): string {
  const firstLine = (message ?? '').split('\n')[0];
  return firstLine || STATUS_CODES[status] || 'Unknown';
}

/**
 * A handler result in the request's format (Formatter/Standard.pm, prepare_response_data).
 * `total` is only sent when it is not zero, as Perl's truth test drops it.
 * `html`, `png` and `spiceconfig` are answered json-shaped: the double has no API browser,
 * graphs or SPICE files.
 */
export function successAnswer(format: string, data: unknown, total?: number): Answer {
  const envelope: Record<string, unknown> = { data: data ?? null };
  if (isExtjs(format)) envelope.success = 1;
  if (total) envelope.total = total;
  return render(format, 200, 'OK', envelope);
}

/**
 * An error in the request's format. json keeps the real status and puts the first line of the
 * message in the status line; extjs and htmljs always answer 200 with `success: 0` and the real
 * code in `status`. `legacy` emulates pve-http-server before 5.2.0 (commit 9a2112e): no
 * `message` in json bodies and no text body for server-level errors.
 */
export function errorAnswer(format: string, err: PveError, legacy: boolean): Answer {
  const reason = reasonPhrase(err.status, err.message);

  if (err.kind === 'bare') return { status: err.status, reason, body: '' };
  if (err.kind === 'server') return { status: err.status, reason, body: legacy ? '' : err.message };

  const message = err.message || STATUS_CODES[err.status] || '';
  if (isExtjs(format)) {
    const envelope: Record<string, unknown> = {
      data: null,
      success: 0,
      status: err.status,
      message,
    };
    if (err.errors) envelope.errors = err.errors;
    return render(format, 200, 'OK', envelope);
  }

  const envelope: Record<string, unknown> = { data: null };
  if (!legacy) envelope.message = message;
  if (err.errors) envelope.errors = err.errors;
  return render(format, err.status, reason, envelope);
}

function isExtjs(format: string): boolean {
  return format === 'extjs' || format === 'htmljs';
}

function render(format: string, status: number, reason: string, envelope: unknown): Answer {
  const json = JSON.stringify(envelope);
  if (format === 'htmljs') {
    return { status, reason, body: encodeEntities(json), contentType: HTML_TYPE };
  }
  return { status, reason, body: json, contentType: JSON_TYPE };
}

/**
 * HTML::Entities `encode_entities` with its default unsafe set. Perl uses named entities for
 * Latin-1 letters (`&auml;`); numeric ones are used here, which a browser reads the same.
 */
function encodeEntities(text: string): string {
  const named: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };
  return text.replace(
    /[^\n\r\t !#$%(-;=?-~]/gu,
    (char) => named[char] ?? `&#${char.codePointAt(0)};`,
  );
}
