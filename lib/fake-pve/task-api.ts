import type { Identity } from './auth';
import { paramError, permissionError } from './errors';
import { DataReply, RawReply } from './replies';
import type { ApiCall, ApiHandler } from './router';
import { type Schema, verifyParams } from './schema';
import type { FakeState } from './state';
import { type ParsedUpid, parseUpid, type Task } from './tasks';

const UPID_SCHEMA: Schema = {
  node: { type: 'string', format: 'pve-node' },
  upid: { type: 'string' },
};

const LOG_SCHEMA: Schema = {
  ...UPID_SCHEMA,
  start: { type: 'integer', minimum: 0, optional: true },
  limit: { type: 'integer', minimum: 0, optional: true },
  download: { type: 'boolean', optional: true },
};

const TOKEN_AUTHID = /^(.+@[^!]+)!(.+)$/;

/** The task endpoints of pve-manager PVE/API2/Tasks.pm. */
export function createTaskHandlers(state: FakeState): Record<'status' | 'log', ApiHandler> {
  return {
    /** `GET /nodes/{node}/tasks/{upid}/status` (read_task_status). */
    status(call) {
      state.recorder.statusPolled();
      const fault = state.faults.takeStatusFault();
      if (fault) return new RawReply(fault);

      const { upid } = verifyParams(call.params, UPID_SCHEMA);
      const parsed = parseTaskUpid(upid);
      // The task log lives on the executing node only: any other {node} does not know it.
      const task = state.tasks.find(upid);
      if (!task || task.node !== call.node) throw paramError({ upid: 'no such task' });
      verifyTaskAccess(state, call, parsed);

      return {
        ...splitTaskUser(parsed),
        upid,
        status: task.status,
        ...(task.status === 'stopped' ? { exitstatus: task.exitstatus } : {}),
      };
    },

    /** `GET /nodes/{node}/tasks/{upid}/log` (read_task_log): no existence check before reading. */
    log(call) {
      const p = verifyParams(call.params, LOG_SCHEMA);
      const parsed = parseTaskUpid(p.upid);
      verifyTaskAccess(state, call, parsed);

      const task = state.tasks.find(p.upid);
      if (!task || task.node !== call.node) {
        return new DataReply([{ n: 1, t: 'unable to open file - No such file or directory' }], 1);
      }
      return dumpLog(task.log, Number(p.start ?? 0), Number(p.limit ?? 50));
    },
  };
}

function parseTaskUpid(upid: string): ParsedUpid {
  const parsed = parseUpid(upid);
  if (!parsed) throw paramError({ upid: 'unable to parse worker upid' });
  return parsed;
}

/** A token's task is its own and its user's; a user's task is that user's. */
export function isTaskOwner(taskUser: string, identity: Identity): boolean {
  const token = TOKEN_AUTHID.exec(taskUser);
  return identity.authid === taskUser || (token !== null && identity.authid === token[1]);
}

/** Others need Sys.Audit on the URL's node, spelled as in the URL (`localhost` stays). */
function verifyTaskAccess(state: FakeState, call: ApiCall, task: ParsedUpid): void {
  const identity = call.identity;
  if (!identity || isTaskOwner(task.user, identity) || state.auth.hasSysAudit(identity)) return;
  throw permissionError(`/nodes/${call.urlNode}, Sys.Audit`);
}

/** Task fields as PVE answers them: a token task names the user and, apart, the token. */
export function splitTaskUser(task: ParsedUpid | Task) {
  const token = TOKEN_AUTHID.exec(task.user);
  return {
    node: task.node,
    pid: task.pid,
    pstart: task.pstart,
    starttime: task.starttime,
    type: task.type,
    id: task.id,
    user: token ? token[1] : task.user,
    ...(token ? { tokenid: token[2] } : {}),
  };
}

/** pve-common Tools.pm, dump_logfile: 1-based lines, `limit` 0 reads to the end. */
function dumpLog(lines: string[], start: number, limit: number): DataReply {
  const selected = limit === 0 ? lines.slice(start) : lines.slice(start, start + limit);
  const data = selected.map((t, i) => ({ n: start + i + 1, t }));
  if (lines.length === 0) return new DataReply([{ n: 1, t: 'no content' }], 1);
  return new DataReply(data, lines.length);
}
