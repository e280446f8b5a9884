import { randomInt } from 'node:crypto';

import { parseUpid, type Upid } from '../pve/upid';

/** A worker task as the executing node knows it. `user` is the full auth id. */
export interface Task {
  upid: string;
  node: string;
  pid: number;
  pstart: number;
  starttime: number;
  type: string;
  id: string;
  user: string;
  log: string[];
  status: 'running' | 'stopped';
  exitstatus?: string;
  endtime?: number;
}

/** A decoded UPID without its text; the double shares the proxy's strict decoder (lib/pve). */
export type ParsedUpid = Omit<Upid, 'upid'>;

export { parseUpid };

/** pve-common UPID.pm, encode: uppercase hex padded to 8 digits, always a trailing colon. */
export function encodeUpid(task: ParsedUpid): string {
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(8, '0');
  return `UPID:${task.node}:${hex(task.pid)}:${hex(task.pstart)}:${hex(task.starttime)}:${task.type}:${task.id}:${task.user}:`;
}

/** `OK` and `WARNINGS: <n>` are successes (pve-common UPID.pm, status_is_error). */
export function isFailedExitStatus(exitstatus: string): boolean {
  return !(exitstatus === 'OK' || /^WARNINGS: \d+$/.test(exitstatus));
}

export type TaskRegistry = ReturnType<typeof createTaskRegistry>;

export function createTaskRegistry() {
  const tasks = new Map<string, Task>();
  // A believable pid and uptime; pstart counts clock ticks (100 Hz) since boot.
  let nextPid = randomInt(0x1000, 0x3fffff);
  const bootedAt = Date.now() - randomInt(3_600_000, 30 * 86_400_000);

  return {
    start(node: string, type: string, id: string, authid: string): Task {
      const fields: ParsedUpid = {
        node,
        pid: nextPid++,
        pstart: Math.floor((Date.now() - bootedAt) / 10),
        starttime: Math.floor(Date.now() / 1000),
        type,
        id,
        user: authid,
      };
      const task: Task = { ...fields, upid: encodeUpid(fields), log: [], status: 'running' };
      tasks.set(task.upid, task);
      return task;
    },

    /**
     * Ends a task with PVE's last log line. The exitstatus is then read back from that line, as
     * pve-common UPID.pm read_status does: an error is one line, an empty one is unexpected.
     */
    finish(task: Task, exitstatus: string): void {
      const line = isFailedExitStatus(exitstatus)
        ? `TASK ERROR: ${exitstatus.replace(/[\r\n]+/g, ' ')}`
        : `TASK ${exitstatus}`;
      task.log.push(line);
      task.status = 'stopped';
      task.endtime = Math.floor(Date.now() / 1000);
      task.exitstatus = readExitStatus(line);
    },

    find: (upid: string) => tasks.get(upid),
    onNode: (node: string) => [...tasks.values()].filter((t) => t.node === node),
  };
}

function readExitStatus(line: string): string {
  if (line === 'TASK OK') return 'OK';
  const warnings = /^TASK (WARNINGS: \d+)$/.exec(line);
  if (warnings) return warnings[1];
  const error = /^TASK ERROR: (.+)$/.exec(line);
  return error ? error[1] : 'unexpected status';
}
