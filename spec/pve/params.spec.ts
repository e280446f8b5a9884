import assert from 'node:assert/strict';

import { parsePveParams, readParam } from '../../lib/pve/params';

describe('parsePveParams', () => {
  it('should let the query win over the body, as PVE does', () => {
    const params = parsePveParams('newid=300', Buffer.from('newid=200&full=1'));
    assert.equal(readParam(params, 'newid'), '300');
    assert.equal(readParam(params, 'full'), '1');
  });

  it('should split on & and ;, read + as space and decode escapes', () => {
    const body = Buffer.from('newid=202;description=a%26b%25c%2Bd%0A%C3%A4&hostname=a+b');
    const params = parsePveParams('', body);
    assert.equal(readParam(params, 'description'), 'a&b%c+d\nä');
    assert.equal(readParam(params, 'hostname'), 'a b');
  });

  it('should read JSON bodies when the media type says so', () => {
    const body = Buffer.from(JSON.stringify({ newid: 203, full: true, description: 'a&b' }));
    const params = parsePveParams('', body, 'application/json; charset=utf-8');
    assert.deepEqual(params, { newid: '203', full: 'true', description: 'a&b' });
  });

  it('should end a value at a second =, as PVE splits pairs', () => {
    assert.equal(readParam(parsePveParams('', Buffer.from('newid=201=x')), 'newid'), '201');
  });

  it('should keep repeated keys and drop _dc', () => {
    const params = parsePveParams('_dc=1', Buffer.from('newid=1&newid=2'));
    assert.deepEqual(params, { newid: ['1', '2'] });
    assert.equal(readParam(params, 'newid'), undefined);
  });
});
