import { createAccessHandlers } from './access-api';
import { createLxcCloneHandler } from './clone-lxc';
import { createQemuCloneHandler } from './clone-qemu';
import { createClusterHandlers } from './cluster-api';
import { createGuestHandlers } from './guest-api';
import type { Route } from './router';
import type { FakeState } from './state';
import { createTaskHandlers } from './task-api';
import { createTaskListHandler } from './task-list';

/** Every API call the double answers; anything else is PVE's 501 `Method ... not implemented`. */
export function createRoutes(state: FakeState): Route[] {
  const access = createAccessHandlers(state);
  const cluster = createClusterHandlers(state);
  const guests = createGuestHandlers(state);
  const tasks = createTaskHandlers(state);

  return [
    { method: 'GET', path: '/version', handler: cluster.version },
    { method: 'GET', path: '/access/ticket', handler: access.ticketIndex },
    { method: 'POST', path: '/access/ticket', handler: access.createTicket },
    { method: 'GET', path: '/access/domains', handler: access.domains },
    { method: 'GET', path: '/cluster/nextid', handler: cluster.nextid },
    { method: 'GET', path: '/cluster/status', handler: cluster.status },
    { method: 'GET', path: '/nodes', handler: guests.nodes },
    { method: 'GET', path: '/nodes/{node}/lxc', handler: guests.lxcList },
    { method: 'GET', path: '/nodes/{node}/qemu', handler: guests.qemuList },
    { method: 'GET', path: '/nodes/{node}/lxc/{vmid}/config', handler: guests.lxcConfig },
    { method: 'PUT', path: '/nodes/{node}/lxc/{vmid}/config', handler: guests.lxcConfigUpdate },
    { method: 'POST', path: '/nodes/{node}/lxc/{vmid}/status/start', handler: guests.lxcStart },
    {
      method: 'POST',
      path: '/nodes/{node}/lxc/{vmid}/clone',
      handler: createLxcCloneHandler(state),
    },
    {
      method: 'POST',
      path: '/nodes/{node}/qemu/{vmid}/clone',
      handler: createQemuCloneHandler(state),
    },
    { method: 'GET', path: '/nodes/{node}/tasks', handler: createTaskListHandler(state) },
    { method: 'GET', path: '/nodes/{node}/tasks/{upid}/status', handler: tasks.status },
    { method: 'GET', path: '/nodes/{node}/tasks/{upid}/log', handler: tasks.log },
  ];
}
