import assert from 'node:assert/strict';

import { createFakePve, type FakePve, type FakePveOptions } from '../../lib/fake-pve';
import { data, post, type Reply, send, taskPath, waitForTask } from './helpers';

const CLONE_9000 = '/api2/json/nodes/pve1/lxc/9000/clone';

describe('fake PVE: LXC clone', () => {
  let pve: FakePve | undefined;

  afterEach(() => pve?.close());

  async function start(options: FakePveOptions = {}): Promise<string> {
    pve = createFakePve({ authDelayMs: 0, taskDurationMs: 100, ...options });
    return pve.listen();
  }

  function assertDie(reply: Reply, message: string): void {
    assert.equal(reply.status, 500);
    assert.equal(reply.reason, message);
    assert.equal(reply.body, JSON.stringify({ data: null, message: `${message}\n` }));
  }

  it('should answer concurrent clones of one template with one UPID and CT is locked (disk)', async () => {
    const url = await start();

    const replies = await Promise.all(
      [201, 202, 203, 204, 205].map((newid) =>
        post(url, CLONE_9000, `newid=${newid}&hostname=ct-${newid}&full=1`),
      ),
    );

    const ok = replies.filter((reply) => reply.status === 200);
    const locked = replies.filter((reply) => reply.status === 500);
    assert.equal(ok.length, 1);
    assert.equal(locked.length, 4);
    for (const reply of locked) assertDie(reply, 'CT is locked (disk)');
    assert.equal(pve?.record.cloneTasks.length, 1);
    assert.equal(pve?.record.maxConcurrentCloneTasks, 1);
  });

  it('should lock the source and reserve the new id before answering, and free both at the end', async () => {
    const url = await start();

    const reply = await post(url, CLONE_9000, 'newid=201&hostname=ct-201');
    const upid = String(data(reply));

    assert.equal(pve?.guest(9000)?.lock, 'disk');
    assert.equal(pve?.guest(201)?.lock, 'create');
    const running = data(await send(url, 'GET', taskPath(upid))) as Record<string, unknown>;
    assert.equal(running.status, 'running');
    assert.equal('exitstatus' in running, false);

    const stopped = await waitForTask(url, upid);
    assert.equal(stopped.exitstatus, 'OK');
    assert.equal(pve?.guest(9000)?.lock, undefined);
    assert.equal(pve?.guest(201)?.lock, undefined);
    assert.equal(pve?.guest(201)?.hostname, 'ct-201');
  });

  it('should store hostname and description exactly as decoded from a form or JSON', async () => {
    const url = await start({ taskDurationMs: 10 });

    const form = await post(
      url,
      CLONE_9000,
      'newid=202&hostname=ct-202&description=a%26b%25c%2Bd%0A%C3%A4',
    );
    await waitForTask(url, String(data(form)));
    const json = await post(
      url,
      CLONE_9000,
      '{"newid":203,"hostname":"ct-203","description":"a&b%c+d\\nä"}',
      {
        'Content-Type': 'application/json',
      },
    );

    assert.equal(json.status, 200);
    assert.equal(pve?.guest(202)?.description, 'a&b%c+d\nä');
    assert.equal(pve?.guest(203)?.description, 'a&b%c+d\nä');
    assert.equal(pve?.guest(203)?.hostname, 'ct-203');
  });

  it('should refuse a used new id, saying VM for a QEMU guest, and release the source', async () => {
    const url = await start();

    assertDie(await post(url, CLONE_9000, 'newid=100'), "CT 100 already exists on node 'pve1'");
    assertDie(await post(url, CLONE_9000, 'newid=9001'), "VM 9001 already exists on node 'pve1'");
    assert.equal(pve?.guest(9000)?.lock, undefined);
  });

  it('should refuse storage for a linked clone and a missing snapshot, undoing both locks', async () => {
    const url = await start();

    assertDie(
      await post(url, CLONE_9000, 'newid=201&storage=local'),
      "parameter 'storage' not allowed for linked clones",
    );
    assertDie(
      await post(url, CLONE_9000, 'newid=201&snapname=before'),
      "snapshot 'before' does not exist",
    );
    assert.equal(pve?.guest(9000)?.lock, undefined);
    assert.equal(pve?.guest(201), undefined);
    assert.equal((await post(url, CLONE_9000, 'newid=201&storage=local&full=1')).status, 200);
  });

  it('should refuse a source that is not a CT on that node, or that carries any lock', async () => {
    const url = await start();
    pve?.faults.lockGuest(9002, 'backup');

    assertDie(
      await post(url, '/api2/json/nodes/pve1/lxc/9001/clone', 'newid=201'),
      "Configuration file 'nodes/pve1/lxc/9001.conf' does not exist",
    );
    assertDie(
      await post(url, '/api2/json/nodes/pve1/lxc/9002/clone', 'newid=201'),
      'CT is locked (backup)',
    );
  });

  it('should verify parameters like the PVE schema', async () => {
    const url = await start();

    const cases: [string, Record<string, string>][] = [
      ['hostname=ct', { newid: 'property is missing and it is not optional' }],
      [
        'newid=201&hostname=a_b',
        { hostname: 'invalid format - value does not look like a valid DNS name\n' },
      ],
      ['newid=201&full=true', { full: "type check ('boolean') failed - got 'true'" }],
      ['newid=201&newid=202', { newid: "type check ('integer') failed - got ARRAY" }],
      [
        'newid=201&password=x',
        {
          password:
            'property is not defined in schema and the schema does not allow additional properties',
        },
      ],
      [
        'newid=201&vmid=9002',
        { vmid: 'duplicate parameter (already defined in URI) with conflicting values!' },
      ],
    ];

    for (const [body, errors] of cases) {
      const reply = await post(url, CLONE_9000, body);
      assert.equal(reply.status, 400, body);
      assert.equal(reply.reason, 'Parameter verification failed.');
      assert.deepEqual(JSON.parse(reply.body).errors, errors, body);
    }
    assert.equal(pve?.record.cloneTasks.length, 0);
  });

  it('should let the query override the body and accept ; as a separator', async () => {
    const url = await start();

    const reply = await post(
      url,
      `${CLONE_9000}?newid=300&_dc=123`,
      'newid=200;hostname=ct-300;vmid=9000',
    );

    assert.equal(reply.status, 200);
    assert.deepEqual(pve?.record.cloneTasks[0].params, { newid: '300', hostname: 'ct-300' });
    assert.equal(pve?.guest(300)?.hostname, 'ct-300');
    assert.equal(pve?.guest(200), undefined);
  });

  it('should fail a clone of another template on the same storage inside its task', async () => {
    const url = await start({ taskDurationMs: 150 });

    const [first, second] = await Promise.all([
      post(url, CLONE_9000, 'newid=201&full=1'),
      post(url, '/api2/json/nodes/pve1/lxc/9002/clone', 'newid=202&full=1'),
    ]);

    assert.equal(first.status, 200);
    assert.equal(second.status, 200);
    const statuses = await Promise.all(
      [first, second].map((reply) => waitForTask(url, String(data(reply)))),
    );
    const exits = statuses.map((status) => status.exitstatus).sort();
    assert.deepEqual(exits, [
      'OK',
      "clone failed: can't lock file '/var/lock/pve-manager/pve-storage-local-lvm' - got timeout",
    ]);
    const failedNewid = statuses[0].exitstatus === 'OK' ? 202 : 201;
    assert.equal(pve?.guest(failedNewid), undefined);
    assert.equal(pve?.guest(9000)?.lock, undefined);
    assert.equal(pve?.guest(9002)?.lock, undefined);
  });

  it('should use the cfs-lock message on shared storage', async () => {
    const url = await start({
      storages: [{ id: 'ceph', type: 'rbd', shared: true }],
      guests: [
        { vmid: 9000, template: true, storage: 'ceph' },
        { vmid: 9002, template: true, storage: 'ceph' },
      ],
    });

    const replies = await Promise.all([
      post(url, CLONE_9000, 'newid=201'),
      post(url, '/api2/json/nodes/pve1/lxc/9002/clone', 'newid=202'),
    ]);
    const exits = await Promise.all(replies.map((reply) => waitForTask(url, String(data(reply)))));

    assert.ok(
      exits.some(
        (s) =>
          s.exitstatus === "clone failed: cfs-lock 'storage-ceph' error: got lock request timeout",
      ),
    );
  });

  it('should end with the exit status taskExitStatus picks, dropping the new CT on failure', async () => {
    const url = await start({
      taskDurationMs: (clone) => (clone.newid === 201 ? 10 : 20),
      taskExitStatus: (clone) => (clone.newid === 201 ? 'WARNINGS: 1' : 'clone failed: disk full'),
    });

    const warned = await waitForTask(url, String(data(await post(url, CLONE_9000, 'newid=201'))));
    const failed = await waitForTask(url, String(data(await post(url, CLONE_9000, 'newid=202'))));
    const log = await send(url, 'GET', taskPath(String(failed.upid)).replace(/status$/, 'log'));

    assert.equal(warned.exitstatus, 'WARNINGS: 1');
    assert.equal(pve?.guest(201)?.lock, undefined);
    assert.equal(failed.exitstatus, 'clone failed: disk full');
    assert.equal(pve?.guest(202), undefined);
    assert.equal(pve?.guest(9000)?.lock, undefined);
    assert.equal((data(log) as { t: string }[]).at(-1)?.t, 'TASK ERROR: clone failed: disk full');
  });

  it('should run a target clone on the source node and move the CT at the end', async () => {
    const url = await start({
      nodes: ['pve1', 'pve2'],
      storages: [{ id: 'nfs', type: 'nfs', shared: true }, { id: 'local-lvm' }],
      guests: [
        { vmid: 9000, template: true, storage: 'local-lvm' },
        { vmid: 100, storage: 'nfs' },
      ],
    });

    assertDie(
      await post(url, CLONE_9000, 'newid=201&target=pve2&full=1'),
      "can't clone CT to node 'pve2' (CT uses local storage)",
    );
    assertDie(await post(url, CLONE_9000, 'newid=201&target=pve9'), "no such cluster node 'pve9'");

    const reply = await post(url, '/api2/json/nodes/pve1/lxc/100/clone', 'newid=201&target=pve2');
    const upid = String(data(reply));
    assert.match(upid, /^UPID:pve1:.*:vzclone:100:root@pam!test:$/);
    assert.equal(pve?.guest(201)?.node, 'pve1');
    await waitForTask(url, upid);
    assert.equal(pve?.guest(201)?.node, 'pve2');
  });

  it('should refuse a linked clone from a directory storage', async () => {
    const url = await start({ guests: [{ vmid: 9000, template: true, storage: 'local' }] });

    assertDie(
      await post(url, CLONE_9000, 'newid=201'),
      "Linked clone feature for 'local:9000/base-9000-disk-0.raw' is not available",
    );
    assert.equal((await post(url, CLONE_9000, 'newid=201&full=1')).status, 200);
  });
});
