import assert from 'node:assert/strict';

import { createFakePve, type FakePve, type FakePveOptions } from '../../lib/fake-pve';
import { data, post, send, waitForTask } from './helpers';

describe('fake PVE: version, nextid, nodes, CT config and start', () => {
  let pve: FakePve | undefined;

  afterEach(() => pve?.close());

  async function start(options: FakePveOptions = {}): Promise<string> {
    pve = createFakePve({ authDelayMs: 0, taskDurationMs: 100, ...options });
    return pve.listen();
  }

  it('should answer /version like PVE 9.1', async () => {
    const url = await start();

    const reply = await send(url, 'GET', '/api2/json/version');

    assert.equal(reply.body, '{"data":{"version":"9.1.1","release":"9.1","repoid":"42ab4d6f"}}');
  });

  it('should hand out the lowest free id as a string and take ids with the clone placeholder', async () => {
    const url = await start();

    const first = await send(url, 'GET', '/api2/json/cluster/nextid');
    await post(url, '/api2/json/nodes/pve1/lxc/9000/clone', 'newid=101');
    const second = await send(url, 'GET', '/api2/json/cluster/nextid');
    const taken = await send(url, 'GET', '/api2/json/cluster/nextid?vmid=101');
    const free = await send(url, 'GET', '/api2/json/cluster/nextid?vmid=150');

    assert.equal(first.body, '{"data":"101"}');
    assert.equal(second.body, '{"data":"102"}');
    assert.equal(taken.status, 400);
    assert.equal(taken.reason, 'Parameter verification failed.');
    assert.deepEqual(JSON.parse(taken.body), {
      data: null,
      message: 'Parameter verification failed.\n',
      errors: { vmid: 'VM 101 already exists' },
    });
    assert.equal(free.body, '{"data":"150"}');
  });

  it('should stay inside the nextid range', async () => {
    const url = await start({ nextid: { lower: 9000, upper: 9003 } });

    const reply = await send(url, 'GET', '/api2/json/cluster/nextid');

    assert.equal(reply.status, 500);
    assert.equal(reply.reason, 'unable to get any free VMID in range [9000, 9003]');
  });

  it('should list nodes and the CTs of a node', async () => {
    const url = await start({ nodes: ['pve1', 'pve2'] });

    const nodes = data(await send(url, 'GET', '/api2/json/nodes')) as {
      node: string;
      status: string;
    }[];
    const cts = data(await send(url, 'GET', '/api2/json/nodes/localhost/lxc')) as {
      vmid: number;
      template?: number;
    }[];

    assert.deepEqual(
      nodes.map((n) => [n.node, n.status]),
      [
        ['pve1', 'online'],
        ['pve2', 'online'],
      ],
    );
    assert.deepEqual(cts.map((ct) => [ct.vmid, ct.template ?? 0]).sort(), [
      [100, 0],
      [9000, 1],
      [9002, 1],
    ]);
    assert.deepEqual(data(await send(url, 'GET', '/api2/json/nodes/pve2/lxc')), []);
  });

  it('should store a config PUT and record its body bytes as sent', async () => {
    const url = await start();

    const put = await send(url, 'PUT', '/api2/json/nodes/pve1/lxc/100/config', {
      body: 'description=a+b%26c',
    });
    const config = data(await send(url, 'GET', '/api2/json/nodes/pve1/lxc/100/config')) as Record<
      string,
      unknown
    >;

    assert.equal(put.status, 200);
    assert.equal(put.body, '{"data":null}');
    assert.equal(config.description, 'a b&c');
    assert.equal(config.hostname, 'ct100');
    assert.equal(config.memory, 512);
    assert.match(String(config.digest), /^[0-9a-f]{40}$/);
    assert.equal(pve?.record.requests.at(-2)?.body.toString(), 'description=a+b%26c');
  });

  it('should refuse a config PUT on a locked CT, without options, or with a stale digest', async () => {
    const url = await start();
    pve?.faults.lockGuest(100, 'snapshot');

    const locked = await send(url, 'PUT', '/api2/json/nodes/pve1/lxc/100/config', {
      body: 'memory=1024',
    });
    const empty = await send(url, 'PUT', '/api2/json/nodes/pve1/lxc/9000/config', { body: '' });
    const stale = await send(url, 'PUT', '/api2/json/nodes/pve1/lxc/9000/config', {
      body: 'memory=1&digest=00',
    });
    const unknown = await send(url, 'PUT', '/api2/json/nodes/pve1/lxc/9000/config', {
      body: 'colour=red',
    });

    assert.equal(locked.reason, 'CT is locked (snapshot)');
    assert.equal(empty.reason, 'no options specified');
    assert.equal(
      stale.reason,
      'detected modified configuration - file changed by other user? Try again.',
    );
    assert.equal(unknown.status, 400);
  });

  it('should start a CT in a short vzstart task, failing templates in the task', async () => {
    const url = await start();

    const upid = String(data(await post(url, '/api2/json/nodes/pve1/lxc/100/status/start', '')));
    const started = await waitForTask(url, upid);
    const again = await post(url, '/api2/json/nodes/pve1/lxc/100/status/start', '');
    const template = String(
      data(await post(url, '/api2/json/nodes/pve1/lxc/9000/status/start', '')),
    );

    assert.match(
      upid,
      /^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:vzstart:100:root@pam!test:$/,
    );
    assert.equal(started.exitstatus, 'OK');
    assert.equal(pve?.guest(100)?.status, 'running');
    assert.equal(again.status, 500);
    assert.equal(again.reason, 'CT 100 already running');
    assert.equal(
      (await waitForTask(url, template)).exitstatus,
      "you can't start a CT if it's a template",
    );
  });
});
