import assert from 'node:assert/strict';

import { createErrorAnswer, decodeHtmlEntities } from '../../lib/pve/envelope';

describe('createErrorAnswer', () => {
  it('should answer json with the real status and the message as reason phrase', () => {
    const answer = createErrorAnswer('json', 503, 'clone queue is full', { 'Retry-After': '9' });
    assert.equal(answer.status, 503);
    assert.equal(answer.reason, 'clone queue is full');
    assert.deepEqual(JSON.parse(answer.body.toString()), {
      data: null,
      message: 'clone queue is full\n',
    });
    assert.ok(answer.headers.includes('Retry-After'));
  });

  it('should answer extjs with HTTP 200 and success 0', () => {
    const answer = createErrorAnswer('extjs', 502, 'cannot reach PVE');
    assert.equal(answer.status, 200);
    assert.deepEqual(JSON.parse(answer.body.toString()), {
      data: null,
      message: 'cannot reach PVE\n',
      status: 502,
      success: 0,
    });
  });

  it('should entity-encode htmljs bodies', () => {
    const answer = createErrorAnswer('htmljs', 503, 'a "b" <c>');
    const text = answer.body.toString();
    assert.ok(!text.includes('"'));
    assert.equal(JSON.parse(decodeHtmlEntities(text)).message, 'a "b" <c>\n');
  });

  it('should use only the first line, without control characters, as reason phrase', () => {
    assert.equal(createErrorAnswer('json', 500, 'first\tline\nsecond').reason, 'first line');
  });
});
