import assert from 'node:assert/strict';

import { createFakePve, type FakePve, type FakePveOptions } from '../../lib/fake-pve';
import { data, post, type Reply, send, taskPath, waitForTask } from './helpers';

const OTHER_TOKEN = {
  Authorization: 'PVEAPIToken=root@pam!other=11111111-1111-1111-1111-111111111111',
};
const ALICE_TOKEN = {
  Authorization: 'PVEAPIToken=alice@pve!ci=22222222-2222-2222-2222-222222222222',
};

describe('fake PVE: tasks', () => {
  let pve: FakePve | undefined;

  afterEach(() => pve?.close());

  async function start(options: FakePveOptions = {}): Promise<string> {
    pve = createFakePve({
      authDelayMs: 0,
      taskDurationMs: 60,
      users: { 'root@pam': 'secret', 'alice@pve': 'alice-pw' },
      tokens: {
        'root@pam!test': '00000000-0000-0000-0000-000000000000',
        'root@pam!other': '11111111-1111-1111-1111-111111111111',
        'alice@pve!ci': '22222222-2222-2222-2222-222222222222',
      },
      ...options,
    });
    return pve.listen();
  }

  async function cookieFor(
    url: string,
    username: string,
    password: string,
  ): Promise<Record<string, string>> {
    const reply = await send(url, 'POST', '/api2/json/access/ticket', {
      token: false,
      body: `username=${encodeURIComponent(username)}&password=${password}`,
    });
    const login = data(reply) as { ticket: string; CSRFPreventionToken: string };
    return {
      Cookie: `PVEAuthCookie=${login.ticket}`,
      CSRFPreventionToken: login.CSRFPreventionToken,
    };
  }

  function assertParamError(reply: Reply, errors: Record<string, string>): void {
    assert.equal(reply.status, 400);
    assert.equal(reply.reason, 'Parameter verification failed.');
    assert.deepEqual(JSON.parse(reply.body).errors, errors);
  }

  it('should name the executing node in the UPID and answer status with PVE fields', async () => {
    const url = await start();
    const before = Math.floor(Date.now() / 1000);

    const upid = String(
      data(await post(url, '/api2/json/nodes/localhost/lxc/9000/clone', 'newid=201')),
    );
    const running = data(await send(url, 'GET', taskPath(upid))) as Record<string, unknown>;

    const [, node, pid, pstart, starttime] = upid.split(':');
    assert.match(
      upid,
      /^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:vzclone:9000:root@pam!test:$/,
    );
    assert.equal(node, 'pve1');
    assert.ok(Math.abs(Number.parseInt(starttime, 16) - before) <= 1);
    assert.deepEqual(running, {
      upid,
      node: 'pve1',
      pid: Number.parseInt(pid, 16),
      pstart: Number.parseInt(pstart, 16),
      starttime: Number.parseInt(starttime, 16),
      type: 'vzclone',
      id: '9000',
      user: 'root@pam',
      tokenid: 'test',
      status: 'running',
    });
    assert.deepEqual(
      { ...(await waitForTask(url, upid)), upid: undefined },
      { ...running, status: 'stopped', exitstatus: 'OK', upid: undefined },
    );
  });

  it('should execute on the URL node and know the task only there', async () => {
    const url = await start({
      nodes: ['pve1', 'pve2'],
      guests: [{ vmid: 9000, node: 'pve2', template: true }],
    });

    const upid = String(data(await post(url, '/api2/json/nodes/pve2/lxc/9000/clone', 'newid=201')));

    assert.match(upid, /^UPID:pve2:/);
    assertParamError(await send(url, 'GET', taskPath(upid, 'pve1')), { upid: 'no such task' });
    assertParamError(await send(url, 'GET', taskPath(upid, 'localhost')), { upid: 'no such task' });
    assert.equal((await send(url, 'GET', taskPath(upid, 'pve2'))).status, 200);
    const unknown = await send(url, 'GET', taskPath(upid, 'pve9'));
    assert.equal(unknown.status, 500);
    assert.match(unknown.reason, /^hostname lookup 'pve9' failed/);
  });

  it('should refuse an unparsable and an unknown UPID', async () => {
    const url = await start();

    assertParamError(await send(url, 'GET', taskPath('UPID:pve1:nope', 'pve1')), {
      upid: 'unable to parse worker upid',
    });
    assertParamError(
      await send(
        url,
        'GET',
        taskPath('UPID:pve1:0000AAAA:0000BBBB:6000CCCC:vzclone:9000:root@pam:'),
      ),
      { upid: 'no such task' },
    );
  });

  it('should show a task to its token and user only, and to holders of Sys.Audit', async () => {
    const url = await start();
    const upid = String(data(await post(url, '/api2/json/nodes/pve1/lxc/9000/clone', 'newid=201')));
    const root = await cookieFor(url, 'root@pam', 'secret');
    const alice = await cookieFor(url, 'alice@pve', 'alice-pw');

    const otherToken = await send(url, 'GET', taskPath(upid), {
      token: false,
      headers: OTHER_TOKEN,
    });
    const viaLocalhost = await send(url, 'GET', taskPath(upid, 'localhost'), {
      token: false,
      headers: ALICE_TOKEN,
    });
    const asAlice = await send(url, 'GET', taskPath(upid), { token: false, headers: alice });
    const asRoot = await send(url, 'GET', taskPath(upid), { token: false, headers: root });

    assert.equal(otherToken.status, 403);
    assert.equal(otherToken.reason, 'Permission check failed (/nodes/pve1, Sys.Audit)');
    assert.equal(
      otherToken.body,
      '{"data":null,"message":"Permission check failed (/nodes/pve1, Sys.Audit)\\n"}',
    );
    assert.equal(viaLocalhost.reason, 'Permission check failed (/nodes/localhost, Sys.Audit)');
    assert.equal(asAlice.status, 403);
    assert.equal(asRoot.status, 200);
  });

  it('should let a user read the tasks of its own ticket, and check existence before permission', async () => {
    const url = await start();
    const alice = await cookieFor(url, 'alice@pve', 'alice-pw');

    const reply = await send(url, 'POST', '/api2/json/nodes/pve1/lxc/9000/clone', {
      token: false,
      headers: alice,
      body: 'newid=201',
    });
    const upid = String(data(reply));

    assert.match(upid, /:vzclone:9000:alice@pve:$/);
    assert.equal(
      (await send(url, 'GET', taskPath(upid), { token: false, headers: alice })).status,
      200,
    );
    assert.equal(
      (await send(url, 'GET', taskPath(upid), { token: false, headers: ALICE_TOKEN })).status,
      403,
    );
    const unknown = upid.replace(':vzclone:', ':vzstart:');
    assertParamError(await send(url, 'GET', taskPath(unknown), { headers: OTHER_TOKEN }), {
      upid: 'no such task',
    });
  });

  it('should serve the task log with n, t and total', async () => {
    const url = await start();
    const upid = String(
      data(await post(url, '/api2/json/nodes/pve1/lxc/9000/clone', 'newid=201&full=1')),
    );
    await waitForTask(url, upid);
    const logPath = taskPath(upid).replace(/status$/, 'log');

    const full = JSON.parse((await send(url, 'GET', logPath)).body);
    const page = JSON.parse((await send(url, 'GET', `${logPath}?start=1&limit=1`)).body);
    const missing = JSON.parse(
      (
        await send(
          url,
          'GET',
          taskPath('UPID:pve1:0000AAAA:0000BBBB:6000CCCC:vzclone:9000:root@pam!test:').replace(
            /status$/,
            'log',
          ),
        )
      ).body,
    );

    assert.deepEqual(full, {
      data: [
        { n: 1, t: 'creating a clone of container 9000 with ID 201' },
        { n: 2, t: 'create full clone of mountpoint rootfs (local-lvm:base-9000-disk-0)' },
        { n: 3, t: 'TASK OK' },
      ],
      total: 3,
    });
    assert.deepEqual(page, { data: [{ n: 2, t: full.data[1].t }], total: 3 });
    assert.deepEqual(missing, {
      data: [{ n: 1, t: 'unable to open file - No such file or directory' }],
      total: 1,
    });
  });

  it('should list finished tasks by default and filter like PVE', async () => {
    const url = await start({ taskDurationMs: (clone) => (clone.newid === 203 ? 5000 : 10) });
    for (const [source, newid] of [
      [9000, 201],
      [9002, 202],
    ]) {
      const upid = String(
        data(await post(url, `/api2/json/nodes/pve1/lxc/${source}/clone`, `newid=${newid}`)),
      );
      await waitForTask(url, upid);
    }
    const running = String(
      data(await post(url, '/api2/json/nodes/pve1/lxc/9000/clone', 'newid=203')),
    );
    const list = async (query: string) =>
      JSON.parse((await send(url, 'GET', `/api2/json/nodes/pve1/tasks${query}`)).body);

    const archive = await list('');
    const active = await list('?source=active');
    const all = await list('?source=all&limit=1&start=1');

    assert.equal(archive.total, 2);
    assert.deepEqual(Object.keys(archive.data[0]).sort(), [
      'endtime',
      'id',
      'node',
      'pid',
      'pstart',
      'starttime',
      'status',
      'tokenid',
      'type',
      'upid',
      'user',
    ]);
    assert.equal(archive.data[0].status, 'OK');
    assert.deepEqual(
      active.data.map((t: { upid: string; status: string }) => [t.upid, t.status]),
      [[running, 'RUNNING']],
    );
    assert.equal(all.total, 3);
    assert.equal(all.data.length, 1);
    assert.equal((await list('?vmid=9002')).data[0].id, '9002');
    assert.deepEqual(await list('?typefilter=vzstart'), { data: [] });
    assert.deepEqual(await list(`?since=${Math.floor(Date.now() / 1000) + 60}`), { data: [] });
    assert.deepEqual(
      JSON.parse(
        (
          await send(url, 'GET', '/api2/json/nodes/pve1/tasks', {
            token: false,
            headers: OTHER_TOKEN,
          })
        ).body,
      ),
      {
        data: [],
      },
    );
  });
});
