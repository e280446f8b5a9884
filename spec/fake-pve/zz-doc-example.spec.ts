import assert from 'node:assert/strict';
import { request } from 'undici';
import { createFakePve, type FakePve } from '/work/main/lib/fake-pve';

const TOKEN = 'PVEAPIToken=root@pam!test=00000000-0000-0000-0000-000000000000';

describe('my gateway', () => {
  let pve: FakePve;
  let pveUrl: string;

  beforeEach(async () => {
    // Short tasks and no 3 s wait on 401s keep the suite fast.
    pve = createFakePve({ taskDurationMs: 100, authDelayMs: 0 });
    pveUrl = await pve.listen(); // e.g. http://127.0.0.1:41234
  });

  afterEach(() => pve.close());

  it('gets CT is locked (disk) for a second clone of one template', async () => {
    const clone = (newid: number) =>
      request(`${pveUrl}/api2/json/nodes/pve1/lxc/9000/clone`, {
        method: 'POST',
        headers: { authorization: TOKEN, 'content-type': 'application/x-www-form-urlencoded' },
        body: `newid=${newid}&full=1`,
      });

    const [first, second] = await Promise.all([clone(201), clone(202)]);

    assert.equal(first.statusCode, 200);
    const upid = ((await first.body.json()) as { data: string }).data;
    assert.match(upid, /^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:vzclone:9000:root@pam!test:$/);
    assert.equal(second.statusCode, 500);
    assert.deepEqual(await second.body.json(), { data: null, message: 'CT is locked (disk)\n' });
    assert.equal(pve.guest(9000)?.lock, 'disk');
    assert.equal(pve.record.maxConcurrentCloneTasks, 1);
  });
});
