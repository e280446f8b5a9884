import { DataReply } from './replies';
import type { ApiHandler } from './router';
import { type Schema, verifyParams } from './schema';
import type { FakeState } from './state';
import { isTaskOwner, splitTaskUser } from './task-api';
import type { Task } from './tasks';

const LIST_SCHEMA: Schema = {
  node: { type: 'string', format: 'pve-node' },
  start: { type: 'integer', minimum: 0, optional: true },
  limit: { type: 'integer', minimum: 0, optional: true },
  userfilter: { type: 'string', optional: true },
  typefilter: { type: 'string', optional: true },
  vmid: { type: 'integer', format: 'pve-vmid', optional: true },
  errors: { type: 'boolean', optional: true },
  source: { type: 'string', enum: ['archive', 'active', 'all'], optional: true },
  since: { type: 'integer', optional: true },
  until: { type: 'integer', optional: true },
  statusfilter: { type: 'string', optional: true },
};

type StatusType = 'ok' | 'warning' | 'error' | 'unknown';

/**
 * `GET /nodes/{node}/tasks` (pve-manager PVE/API2/Tasks.pm, node_tasks). The default source is
 * `archive`: finished tasks only. Running tasks (source `active` or `all`) carry the status
 * `RUNNING`. `total` counts every task that passed the filters, before `start` and `limit`.
 */
export function createTaskListHandler(state: FakeState): ApiHandler {
  return (call) => {
    const p = verifyParams(call.params, LIST_SCHEMA);
    const identity = call.identity;
    const auditor = identity !== undefined && state.auth.hasSysAudit(identity);
    const start = Number(p.start ?? 0);
    let limit = Number(p.limit ?? 50);
    const source = p.source ?? 'archive';
    const statuses = statusFilter(p.statusfilter, p.errors === '1');

    const tasks = state.tasks.onNode(call.node);
    const running = tasks.filter((t) => t.status === 'running').sort(newestFirst);
    const finished = tasks.filter((t) => t.status === 'stopped').sort(newestFirst);
    const candidates = [
      ...(source === 'archive' ? [] : running),
      ...(source === 'active' ? [] : finished),
    ];

    let count = 0;
    const data: unknown[] = [];
    for (const task of candidates) {
      const view = splitTaskUser(task);
      if (p.userfilter && !view.user.toLowerCase().includes(p.userfilter.toLowerCase())) continue;
      if (!(auditor || (identity && isTaskOwner(task.user, identity)))) continue;
      if (p.typefilter && task.type !== p.typefilter) continue;
      if (p.vmid && task.id !== p.vmid) continue;
      if (p.since !== undefined && task.starttime < Number(p.since)) continue;
      if (p.until !== undefined && task.starttime > Number(p.until)) continue;
      if (!statuses.has(statusType(task))) continue;
      if (count++ < start || limit <= 0) continue;

      limit--;
      data.push(
        task.status === 'running'
          ? { ...view, upid: task.upid, status: 'RUNNING' }
          : { ...view, upid: task.upid, status: task.exitstatus, endtime: task.endtime },
      );
    }
    return new DataReply(data, count);
  };
}

function newestFirst(a: Task, b: Task): number {
  return (b.endtime ?? b.starttime) - (a.endtime ?? a.starttime) || b.pid - a.pid;
}

function statusFilter(list: string | undefined, errorsOnly: boolean): Set<StatusType> {
  if (list !== undefined && !errorsOnly) {
    return new Set(list.split(/[,;\s]+/).map((s) => s.toLowerCase() as StatusType));
  }
  const all = new Set<StatusType>(['ok', 'warning', 'error', 'unknown']);
  if (errorsOnly) all.delete('ok');
  return all;
}

/** pve-common UPID.pm, normalize_status_type; a running task has no status yet. */
function statusType(task: Task): StatusType {
  const status = task.exitstatus;
  if (task.status === 'running' || !status || status === 'unexpected status') return 'unknown';
  if (status === 'OK') return 'ok';
  return /^WARNINGS: \d+$/.test(status) ? 'warning' : 'error';
}
