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
): PveAnswer {
  const text = message.endsWith('\n') ? message : `${message}\n`;
  const firstLine = text.split('\n')[0] || STATUS_CODES[status] || 'Error';

  if (format === 'extjs' || format === 'htmljs') {
    const data = JSON.stringify({ data: null, message: text, status, success: 0 });
    const html = format === 'htmljs';
    return {
      status: 200,
      reason: 'OK',
      headers: createHeaders(html ? 'text/html;charset=UTF-8' : JSON_TYPE, extraHeaders),
      body: Buffer.from(html ? encodeHtmlEntities(data) : data, 'utf8'),
    };
  }

  return {
    status,
    reason: toReasonPhrase(firstLine),
    headers: createHeaders(JSON_TYPE, extraHeaders),
    body: Buffer.from(JSON.stringify({ data: null, message: text }), 'utf8'),
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
