import { STATUS_CODES } from 'node:http';

import type { PveAnswer } from './answer';

/**
 * Build an error answer in the envelope PVE uses for the request's format
 * (pve-http-server Formatter/Standard.pm, prepare_response_data):
 * - `json` (and any format we do not know): the real status, the message's first line as the
 *   reason phrase, body `{"data":null,"message":"<msg>\n"}`;
 * - `extjs` / `htmljs`: HTTP 200 with `success: 0` and the real status inside the body.
 *
 * @example
 * createErrorAnswer('json', 503, 'clone queue is full', { 'Retry-After': '30' })
 */
export function createErrorAnswer(
  format: string,
  status: number,
  message: string,
  extraHeaders: Record<string, string> = {},
  errors?: Record<string, string>,
): PveAnswer {
  const text = message.endsWith('\n') ? message : `${message}\n`;
  const firstLine = text.split('\n')[0] || STATUS_CODES[status] || 'Error';
  const detail = errors ? { errors } : {};

  if (format === 'extjs' || format === 'htmljs') {
    return createEnvelope(
      format,
      200,
      'OK',
      { data: null, ...detail, message: text, status, success: 0 },
      extraHeaders,
    );
  }
  return createEnvelope(
    format,
    status,
    toReasonPhrase(firstLine),
    { data: null, ...detail, message: text },
    extraHeaders,
  );
}

/** A success answer in the envelope of the request's format: `{"data":...}` (+ `success: 1`). */
export function createDataAnswer(
  format: string,
  data: unknown,
  extraHeaders: Record<string, string> = {},
): PveAnswer {
  const body = format === 'extjs' || format === 'htmljs' ? { data, success: 1 } : { data };
  return createEnvelope(format, 200, 'OK', body, extraHeaders);
}

function createEnvelope(
  format: string,
  status: number,
  reason: string,
  body: Record<string, unknown>,
  extraHeaders: Record<string, string>,
): PveAnswer {
  const json = JSON.stringify(body);
  const html = format === 'htmljs';
  return {
    status,
    reason,
    headers: createHeaders(html ? 'text/html;charset=UTF-8' : JSON_TYPE, extraHeaders),
    body: Buffer.from(html ? encodeHtmlEntities(json) : json, 'utf8'),
  };
}

const JSON_TYPE = 'application/json;charset=UTF-8';

function createHeaders(contentType: string, extra: Record<string, string>): string[] {
  const headers = ['Content-Type', contentType, 'Cache-Control', 'max-age=0'];
  for (const [name, value] of Object.entries(extra)) headers.push(name, value);
  return headers;
}

/** A reason phrase may not carry control characters; Node would refuse to write it. */
export function toReasonPhrase(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
  return text.replace(/[\x00-\x1f\x7f]/g, ' ').trim();
}

/** Undo the entity encoding PVE applies to `htmljs` bodies (HTML::Entities). */
export function decodeHtmlEntities(text: string): string {
  return text.replace(/&(quot|amp|lt|gt|#39|#x27);/g, (_entity, name: string) => ENTITIES[name]);
}

function encodeHtmlEntities(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&${REVERSE[char]};`);
}

const ENTITIES: Record<string, string> = {
  quot: '"',
  amp: '&',
  lt: '<',
  gt: '>',
  '#39': "'",
  '#x27': "'",
};

const REVERSE: Record<string, string> = {
  '"': 'quot',
  '&': 'amp',
  '<': 'lt',
  '>': 'gt',
  "'": '#39',
};
