import assert from 'node:assert/strict';

import { createFakePve, type FakePve } from '../../lib/fake-pve';
import { data, post, send, taskPath, waitForTask } from './helpers';

const CLONE_9000 = '/api2/json/nodes/pve1/lxc/9000/clone';
const TIMEOUT_596 =
  'Errors during TLS negotiation, request sending and header processing: Connection timed out';

describe('fake PVE: fault injection and the recorder', () => {
  let pve: FakePve;
  let url: string;

  beforeEach(async () => {
    pve = createFakePve({ authDelayMs: 0, taskDurationMs: 60 });
    url = await pve.listen();
  });

  afterEach(() => pve.close());

  it('should answer the next task-status polls with the given raw status', async () => {
    const upid = String(data(await post(url, CLONE_9000, 'newid=201')));
    pve.faults.failStatusPolls(2, 596, TIMEOUT_596);

    const first = await send(url, 'GET', taskPath(upid));
    const second = await send(url, 'GET', taskPath(upid));
    const third = await send(url, 'GET', taskPath(upid));

    for (const reply of [first, second]) {
      assert.equal(reply.status, 596);
      assert.equal(reply.reason, TIMEOUT_596);
      assert.equal(reply.body, '');
      assert.equal(reply.headers.server, 'pve-api-daemon/3.0');
    }
    assert.equal(third.status, 200);
    assert.equal(pve.record.statusPolls, 3);
  });

  it('should delay a clone answer before its synchronous part', async () => {
    pve.faults.delayClones(1, 80);
    const started = Date.now();

    const reply = await post(url, CLONE_9000, 'newid=201');

    assert.equal(reply.status, 200);
    assert.ok(Date.now() - started >= 75);
    assert.ok(pve.record.cloneTasks[0].startedAt - pve.record.requests[0].receivedAt >= 75);
  });

  it('should start the task but drop the connection for a dropped clone answer', async () => {
    pve.faults.dropCloneAnswers(1);

    await assert.rejects(post(url, CLONE_9000, 'newid=201'), /socket hang up|ECONNRESET/);

    assert.equal(pve.record.cloneTasks.length, 1);
    assert.equal(pve.guest(9000)?.lock, 'disk');
    assert.equal(pve.guest(201)?.lock, 'create');
    assert.equal((await waitForTask(url, pve.record.cloneTasks[0].upid)).exitstatus, 'OK');
  });

  it('should answer clones with a raw response without starting a task', async () => {
    pve.faults.answerClones(1, {
      status: 500,
      reason: 'CT is locked (disk)',
      headers: { 'Content-Type': 'application/json;charset=UTF-8' },
      body: '{"data":null}',
    });

    const faked = await post(url, CLONE_9000, 'newid=201');
    const real = await post(url, CLONE_9000, 'newid=201');

    assert.equal(faked.status, 500);
    assert.equal(faked.reason, 'CT is locked (disk)');
    assert.equal(faked.body, '{"data":null}');
    assert.equal(faked.headers.connection, 'close');
    assert.equal(real.status, 200);
    assert.equal(pve.record.cloneTasks.length, 1);
  });

  it('should record every request with its raw target, headers and body', async () => {
    await post(url, `${CLONE_9000}?x=%41`, 'newid=201&description=a+b%26c', { 'X-Trace': 'abc' });

    const [request] = pve.record.requests;
    assert.equal(request.method, 'POST');
    assert.equal(request.url, `${CLONE_9000}?x=%41`);
    assert.equal(request.headers['x-trace'], 'abc');
    assert.ok(request.rawHeaders.includes('X-Trace'));
    assert.equal(request.body.toString(), 'newid=201&description=a+b%26c');
    assert.ok(Math.abs(request.receivedAt - Date.now()) < 1000);
  });

  it('should count running clone tasks and reset', async () => {
    const upid = String(data(await post(url, CLONE_9000, 'newid=201')));
    await post(url, '/api2/json/nodes/pve1/qemu/9001/clone', 'newid=301');

    assert.equal(pve.record.runningCloneTasks(), 2);
    assert.equal(pve.record.maxConcurrentCloneTasks, 2);
    await waitForTask(url, upid);

    pve.record.reset();
    assert.deepEqual(pve.record.requests, []);
    assert.deepEqual(pve.record.cloneTasks, []);
    assert.equal(pve.record.statusPolls, 0);
    assert.ok(pve.record.maxConcurrentCloneTasks <= 1);
  });

  it('should refuse to lock a guest that does not exist', () => {
    assert.throws(() => pve.faults.lockGuest(555, 'backup'), RangeError);
  });
});
