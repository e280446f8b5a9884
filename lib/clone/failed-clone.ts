import type { ProxyError } from '../errors';
import type { Upid } from '../pve/upid';
import { mayHaveArrived } from '../upstream/upstream-failure';
import { logTaskEnd, proxyAnswer, type Timing, toOutcome } from './clone-answers';
import type { CloneContext } from './clone-context';
import { type CloneJob, describeJob, type TaskOutcome } from './clone-job';
import type { CloneLane } from './clone-lane';
import type { LaneLease } from './lane-lock';
import { createPollSchedule } from './poll-schedule';
import { findStartedCloneTaskUntil } from './task-search';
import { watchTask } from './task-watch';

/**
 * The clone request failed. If PVE may have received it, a task may run anyway: find it and
 * hold the slot until it stops, so the next clone does not collide with it.
 */
export async function recoverFailedClone(
  job: CloneJob,
  lane: CloneLane,
  lease: LaneLease,
  failure: ProxyError,
  dispatchedAt: number,
  timing: () => Timing,
  context: CloneContext,
): Promise<void> {
  const line = { ...describeJob(job), code: failure.code, reason: failure.message };
  const fail = (
    message: string,
    outcome: TaskOutcome,
    task: { upid?: Upid; exitstatus?: string } = {},
  ) => {
    const { upid, exitstatus } = task;
    context.events.emit('finished', {
      job,
      lane,
      outcome,
      status: failure.status,
      upid: upid?.upid,
      exitstatus,
      error: failure.code,
      ...timing(),
    });
    job.answer(proxyAnswer(job, failure, message, outcome, timing(), task));
  };

  if (!mayHaveArrived(failure)) {
    context.logger.warn('clone request failed before reaching PVE', line);
    return fail(failure.message, 'not-started');
  }

  const until = Date.now() + context.config.requestTimeoutMs;
  const search = await findStartedCloneTaskUntil(
    job.route,
    job.request.credentials,
    dispatchedAt,
    until,
    context,
  );
  if (!search.found) {
    const looked = search.reason
      ? `could not look for a task (${search.reason})`
      : 'no clone task was found';
    context.logger.warn('clone request failed after sending; no task found', {
      ...line,
      search: looked,
    });
    return fail(`${failure.message}; ${looked} on node ${job.route.node}`, 'not-started');
  }

  const upid = search.found;
  lease.recordTask(upid.upid);
  context.logger.warn(
    'clone request failed after sending, but PVE started a task; waiting for it',
    {
      ...line,
      upid: upid.upid,
    },
  );
  const end = await watchTask(upid, job.request.credentials, context, {
    schedule: createPollSchedule(context.config.pollIntervalMs, context.config.adaptivePolling),
    meta: describeJob(job),
  });
  logTaskEnd(end, { ...line, upid: upid.upid, ...timing() }, context);

  const exitstatus = end.kind === 'stopped' ? end.exitstatus : undefined;
  const ended = exitstatus !== undefined ? `ended: ${exitstatus}` : `state: ${toOutcome(end)}`;
  fail(`${failure.message}; PVE started clone task ${upid.upid} (${ended})`, toOutcome(end), {
    upid,
    exitstatus,
  });
}
