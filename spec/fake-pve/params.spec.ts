import assert from 'node:assert/strict';

import type { PveError } from '../../lib/fake-pve/errors';
import { decodeUrlencoded, extractParams, mergeUriParams } from '../../lib/fake-pve/params';
import { splitSegments } from '../../lib/fake-pve/path';
import { type Schema, verifyParams } from '../../lib/fake-pve/schema';
import { encodeUpid, parseUpid } from '../../lib/fake-pve/tasks';

describe('fake PVE: parameter decoding and checks', () => {
  it('should decode forms like decode_urlencoded, quirks included', () => {
    const params = decodeUrlencoded('a=1;b=x+y%26z&c&d=&e=%C3%A4&f=1&f=2&g=x=y');

    assert.deepEqual(Object.fromEntries(params), {
      a: '1',
      b: 'x y&z',
      c: null,
      d: null,
      e: 'ä',
      f: ['1', '2'],
      g: 'x',
    });
  });

  it('should let the query replace body values and drop _dc', () => {
    const params = extractParams(
      'POST',
      'application/x-www-form-urlencoded',
      Buffer.from('newid=200&full=1'),
      'newid=300&_dc=9',
    );

    assert.deepEqual(Object.fromEntries(params), { newid: '300', full: '1' });
  });

  it('should take JSON bodies as they are and ignore bodies of GET', () => {
    const json = extractParams(
      'POST',
      'application/json; charset=utf-8',
      Buffer.from('{"newid":201,"full":true}'),
      '',
    );
    const get = extractParams('GET', undefined, Buffer.from('newid=1'), 'vmid=100');

    assert.deepEqual(Object.fromEntries(json), { newid: 201, full: true });
    assert.deepEqual(Object.fromEntries(get), { vmid: '100' });
  });

  it('should refuse URL parameters given again with another value, compared as Perl strings', () => {
    const same = mergeUriParams(new Map<string, unknown>([['vmid', 9000]]), { vmid: '9000' });

    assert.equal(same.get('vmid'), '9000');
    assert.throws(
      () => mergeUriParams(new Map([['node', 'pve1']]), { node: 'localhost' }),
      (err: PveError) =>
        err.status === 400 &&
        err.errors?.node ===
          'duplicate parameter (already defined in URI) with conflicting values!',
    );
  });

  it('should check types, formats, bounds and enums, collecting every error', () => {
    const schema: Schema = {
      vmid: { type: 'integer', format: 'pve-vmid' },
      full: { type: 'boolean', optional: true },
      bwlimit: { type: 'number', minimum: 0, optional: true },
      storage: { type: 'string', format: 'pve-storage-id', optional: true },
      source: { type: 'string', enum: ['a', 'b'], optional: true },
    };

    assert.deepEqual(
      verifyParams(
        new Map<string, unknown>([
          ['vmid', 100],
          ['full', false],
        ]),
        schema,
      ),
      {
        vmid: '100',
        full: '0',
      },
    );
    assert.throws(
      () =>
        verifyParams(
          new Map<string, unknown>([
            ['vmid', '1000000000'],
            ['full', 'on'],
            ['bwlimit', '-1'],
            ['storage', 'x'],
            ['source', { a: 1 }],
          ]),
          schema,
        ),
      (err: PveError) => {
        assert.equal(err.message, 'Parameter verification failed.\n');
        assert.deepEqual(err.errors, {
          vmid: 'invalid format - value does not look like a valid VM ID\n',
          full: "type check ('boolean') failed - got 'on'",
          bwlimit: 'value must have a minimum value of 0',
          storage: "invalid format - storage ID 'x' cannot be shorter than 2 characters\n",
          source: "type check ('string') failed - got HASH",
        });
        return true;
      },
    );
  });

  it('should split API paths on runs of slashes', () => {
    assert.deepEqual(splitSegments('//nodes///pve1/lxc/'), ['nodes', 'pve1', 'lxc']);
  });

  it('should round-trip UPIDs and accept lowercase hex and 9-digit pstart on parse', () => {
    const upid = 'UPID:pve1:000D7AA2:08D5A17C:63DF62A5:vzclone:200:root@pam!test:';

    const parsed = parseUpid(upid);

    assert.deepEqual(parsed, {
      upid,
      node: 'pve1',
      pid: 0xd7aa2,
      pstart: 0x8d5a17c,
      starttime: 0x63df62a5,
      type: 'vzclone',
      id: '200',
      user: 'root@pam!test',
    });
    assert.equal(parsed && encodeUpid(parsed), upid);
    assert.ok(parseUpid('UPID:pve1:000d7aa2:108D5A17C:63df62a5:vzdump::root@pam:'));
    assert.equal(
      parseUpid('UPID:pve1:000D7AA2:08D5A17C:63DF62A5:vzclone:200:root@pam!test'),
      undefined,
    );
  });
});
