import assert from 'node:assert/strict';

import { parseCloneRoute } from '../../lib/pve/clone-route';

describe('parseCloneRoute', () => {
  const clone = (target: string) => parseCloneRoute('POST', target);

  it('should take the plain json clone path', () => {
    assert.deepEqual(clone('/api2/json/nodes/pve1/lxc/9000/clone'), {
      format: 'json',
      node: 'pve1',
      vmid: '9000',
      guestType: 'lxc',
      query: '',
    });
  });

  it('should take every spelling PVE routes to the clone handler', () => {
    const spellings = [
      '/api2/extjs/nodes/pve1/lxc/9000/clone',
      '/api2/htmljs/nodes/pve1/lxc/9000/clone',
      '/api2/json/nodes/pve1/lxc/9000/clone/',
      '/api2//json//nodes//pve1/lxc/9000//clone//',
      '/api2/json/nodes/pve1/lxc/9000/%63lone',
      '/api2/json/nodes%2Fpve1%2Flxc/9000/clone',
      '/api2/json/nodes/pve1/lxc/9000/clone%0A',
      'http://pve.example:8006/api2/json/nodes/pve1/lxc/9000/clone',
    ];
    for (const target of spellings) {
      const route = clone(target);
      assert.ok(route, `expected a clone: ${target}`);
      assert.equal(route.node, 'pve1');
      assert.equal(route.vmid, '9000');
    }
  });

  it('should keep the query and the node alias as sent', () => {
    const route = clone('/api2/json/nodes/localhost/lxc/9000/clone?newid=201&full=1');
    assert.equal(route?.node, 'localhost');
    assert.equal(route?.query, 'newid=201&full=1');
  });

  it('should pass everything PVE would not route to the LXC clone handler', () => {
    const others = [
      '/api2/json/nodes/pve1/lxc/9000/Clone',
      '/api2/json/nodes/pve1/LXC/9000/clone',
      '/API2/json/nodes/pve1/lxc/9000/clone',
      '/api2/JSON/nodes/pve1/lxc/9000/clone',
      '/api2/json/nodes/pve1/qemu/9000/clone',
      '/api2/json/nodes/pve1/lxc/9000/clonefoo',
      '/api2/json/nodes/pve1/lxc/9000/./clone',
      '/api2/json/nodes/pve1/lxc/9000/clone/extra',
      '/api2/json/nodes/pve1/lxc/9000',
      '/api2/json/nodes/pve1/lxc/9000/clone%3F',
      '/api2/json/nodes/pve%201/lxc/9000/clone',
      '/json/nodes/pve1/lxc/9000/clone',
      '/api2/1json/nodes/pve1/lxc/9000/clone',
    ];
    for (const target of others) assert.equal(clone(target), undefined, target);
  });

  it('should pass other methods on the clone path', () => {
    for (const method of ['GET', 'PUT', 'DELETE', 'HEAD']) {
      assert.equal(parseCloneRoute(method, '/api2/json/nodes/pve1/lxc/9000/clone'), undefined);
    }
  });
});
