import assert from 'node:assert/strict';

import { createFakePve, type FakePve } from '../../lib/fake-pve';
import { data, post, waitForTask } from './helpers';

const CLONE_9001 = '/api2/json/nodes/pve1/qemu/9001/clone';

describe('fake PVE: QEMU clone', () => {
  let pve: FakePve;
  let url: string;

  beforeEach(async () => {
    pve = createFakePve({ authDelayMs: 0, taskDurationMs: 100 });
    url = await pve.listen();
  });

  afterEach(() => pve.close());

  it('should run parallel clones of one template, each with a qmclone UPID', async () => {
    const replies = await Promise.all(
      [301, 302, 303, 304, 305].map((newid) => post(url, CLONE_9001, `newid=${newid}&full=1`)),
    );

    for (const reply of replies) {
      assert.equal(reply.status, 200);
      assert.match(
        String(data(reply)),
        /^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:qmclone:9001:root@pam!test:$/,
      );
    }
    assert.equal(pve.guest(9001)?.lock, undefined);
    const exits = await Promise.all(replies.map((reply) => waitForTask(url, String(data(reply)))));
    assert.deepEqual(
      exits.map((status) => status.exitstatus),
      ['OK', 'OK', 'OK', 'OK', 'OK'],
    );
    assert.equal(pve.record.maxConcurrentCloneTasks, 5);
    assert.equal(pve.guest(303)?.name, 'Copy-of-VM-tpl-9001');
  });

  it('should hold the new VM with lock clone while the task runs', async () => {
    const reply = await post(url, CLONE_9001, 'newid=301&name=web-1');
    await new Promise((resolve) => setTimeout(resolve, 20));

    assert.equal(pve.guest(301)?.lock, 'clone');
    await waitForTask(url, String(data(reply)));
    assert.equal(pve.guest(301)?.lock, undefined);
    assert.equal(pve.guest(301)?.name, 'web-1');
  });

  it('should let only one of two clones to one new id succeed, the other mostly in its task', async () => {
    const replies = await Promise.all([
      post(url, CLONE_9001, 'newid=301'),
      post(url, CLONE_9001, 'newid=301'),
    ]);

    const outcomes = await Promise.all(
      replies.map(async (reply) =>
        reply.status === 200
          ? (await waitForTask(url, String(data(reply)))).exitstatus
          : reply.reason,
      ),
    );
    const [first, second] = outcomes.sort();
    assert.equal(first, 'OK');
    // Normally both POSTs pass and the later worker times out on the flock; a POST that comes
    // after the first worker wrote its placeholder is refused at once, as PVE would.
    assert.ok(
      [
        "can't lock file '/var/lock/qemu-server/lock-301.conf' - got timeout",
        'unable to create VM 301: config file already exists',
      ].includes(String(second)),
      String(second),
    );
  });

  it('should refuse a locked source and an existing config at once', async () => {
    const existing = await post(url, CLONE_9001, 'newid=100');
    pve.faults.lockGuest(9001, 'backup');
    const locked = await post(url, CLONE_9001, 'newid=301');

    assert.equal(existing.status, 500);
    assert.equal(existing.reason, 'unable to create VM 100: config file already exists');
    assert.equal(locked.status, 500);
    assert.equal(locked.reason, 'VM is locked (backup)');
    assert.equal(pve.record.cloneTasks.length, 0);
  });

  it('should take name instead of hostname and an integer bwlimit', async () => {
    const reply = await post(url, CLONE_9001, 'newid=301&hostname=x&bwlimit=1.5&format=qed');

    assert.equal(reply.status, 400);
    assert.deepEqual(JSON.parse(reply.body).errors, {
      hostname:
        'property is not defined in schema and the schema does not allow additional properties',
      bwlimit: "type check ('integer') failed - got '1.5'",
      format: "value 'qed' does not have a value in the enumeration 'raw, qcow2, vmdk'",
    });
  });
});
