import type { ProxyError } from '../errors';
import { type PveAnswer, withHeaders } from '../pve/answer';
import { createErrorAnswer } from '../pve/envelope';
import type { Upid } from '../pve/upid';
import type { CloneContext } from './clone-context';
import type { CloneJob, TaskOutcome } from './clone-job';
import type { TaskEnd } from './task-watch';

export interface Timing {
  waitMs: number;
  taskMs: number;
}

export function logTaskEnd(
  end: TaskEnd,
  line: Record<string, unknown>,
  context: CloneContext,
): void {
  if (end.kind === 'stopped') {
    context.logger.info('clone finished', { ...line, exitstatus: end.exitstatus });
  } else if (end.kind === 'timeout') {
    context.logger.error('clone task still running at poll timeout; slot freed', line);
  } else {
    context.logger.error(
      'clone task status unreadable; slot freed. Check that the credentials may read the task (Sys.Audit on the node)',
      {
        ...line,
        reason: end.reason,
      },
    );
  }
}

export function toOutcome(end: TaskEnd): TaskOutcome {
  if (end.kind === 'stopped') return 'stopped';
  return end.kind === 'timeout' ? 'running' : 'unknown';
}

/** PVE's answer with what the proxy knows added as `X-Clone-Proxy-*` headers. */
export function annotate(
  job: CloneJob,
  answer: PveAnswer,
  outcome: TaskOutcome,
  timing: Timing,
  exitstatus?: string,
): PveAnswer {
  const headers: Record<string, string> = {
    'X-Clone-Proxy-Request-Id': job.requestId,
    'X-Clone-Proxy-Wait-Ms': String(timing.waitMs),
    'X-Clone-Proxy-Task-Ms': String(timing.taskMs),
    'X-Clone-Proxy-Task': outcome,
  };
  if (exitstatus !== undefined) headers['X-Clone-Proxy-Exitstatus'] = toHeaderValue(exitstatus);
  return withHeaders(answer, headers);
}

/** The proxy's own error for a clone, in the envelope of the request's format. */
export function proxyAnswer(
  job: CloneJob,
  error: ProxyError,
  message: string,
  outcome: TaskOutcome,
  timing: Timing,
  task: { upid?: Upid; exitstatus?: string } = {},
): PveAnswer {
  const headers: Record<string, string> = { 'X-Clone-Proxy-Error': error.code };
  if (task.upid) headers['X-Clone-Proxy-Upid'] = task.upid.upid;
  const answer = createErrorAnswer(
    job.route.format,
    error.status,
    `pve-clone-proxy: ${message}`,
    headers,
  );
  return annotate(job, answer, outcome, timing, task.exitstatus);
}

// A task's exitstatus is one line of PVE's task log; keep it printable for a header.
function toHeaderValue(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 512);
}
