import { isProxyError, ProxyError } from '../errors';
import { type PveAnswer, withHeaders } from '../pve/answer';
import { createErrorAnswer } from '../pve/envelope';
import type { Upid } from '../pve/upid';
import { exchangeUpstream } from '../upstream/upstream-exchange';
import { describeUpstreamFailure, mayHaveArrived } from '../upstream/upstream-failure';
import { readCloneAcceptance } from './clone-acceptance';
import type { CloneContext } from './clone-context';
import { type CloneJob, describeJob, type TaskOutcome } from './clone-job';
import type { CloneLane, CloneRunner } from './clone-lane';
import { waitForForeignTask } from './foreign-task';
import type { LaneLease } from './lane-lock';
import { createPollSchedule } from './poll-schedule';
import { createRefusalAnswer } from './refusal-answer';
import { findStartedCloneTask } from './task-search';
import { type TaskEnd, watchTask } from './task-watch';

interface Timing {
  waitMs: number;
  taskMs: number;
}

/**
 * Run one clone in its lane's slot: send it to PVE, and if PVE started a task, hold the slot
 * until the task has stopped; then answer the clients with PVE's own clone answer.
 */
export function createCloneRunner(context: CloneContext): CloneRunner {
  return {
    run: (job, lane, lease) => runClone(job, lane, lease, context),
    waitForTask: (job, upid) => waitForForeignTask(job, upid, context),
    refuse: (job, lane, error) => refuseUnlocked(job, lane, error, context),
  };
}

async function runClone(
  job: CloneJob,
  lane: CloneLane,
  lease: LaneLease,
  context: CloneContext,
): Promise<void> {
  const dispatchedAt = Date.now();
  context.events.emit('started', job, lane);
  const timing = (): Timing => ({
    waitMs: dispatchedAt - job.enqueuedAt,
    taskMs: Date.now() - dispatchedAt,
  });

  // submit clone
  let answer: PveAnswer;
  try {
    answer = await exchangeUpstream(context.upstream, {
      origin: context.config.target,
      method: 'POST',
      path: job.request.target,
      headers: job.request.headers,
      body: job.request.body,
      timeoutMs: context.config.requestTimeoutMs,
    });
  } catch (error) {
    const failure = describeUpstreamFailure(error, context.config.target);
    return recoverFailedClone(job, lane, lease, failure, dispatchedAt, timing, context);
  }

  const acceptance = readCloneAcceptance(answer, job.route.format);
  if (!acceptance.accepted) {
    return relayRefusal(job, lane, answer, acceptance.unexpected, timing(), context);
  }

  // poll task, then release
  const acceptedAt = Date.now();
  const upid = acceptance.upid.upid;
  context.events.emit('taskStarted', job, upid);
  lease.recordTask(upid);
  if (context.config.respond === 'accepted') job.answer(annotate(job, answer, 'running', timing()));

  const kind = createTaskKind(job, acceptance.upid);
  const end = await watchTask(acceptance.upid, job.request.credentials, context, {
    schedule: createPollSchedule(
      context.config.pollIntervalMs,
      context.config.adaptivePolling,
      context.durations.estimate(kind),
    ),
    onPollFailed: (failure) => context.events.emit('pollFailed', job, failure),
    meta: describeJob(job),
  });
  if (end.kind === 'stopped') context.durations.record(kind, Date.now() - acceptedAt);
  const line = {
    ...describeJob(job),
    upid,
    ...timing(),
    lane: lane.name,
    queueDepth: lane.waitingCount,
  };
  logTaskEnd(end, line, context);

  const exitstatus = end.kind === 'stopped' ? end.exitstatus : undefined;
  const outcome = toOutcome(end);
  context.events.emit('finished', {
    job,
    lane,
    outcome,
    status: answer.status,
    upid,
    exitstatus,
    ...timing(),
  });
  if (job.answered) return;
  if (!job.answer(annotate(job, answer, outcome, timing(), exitstatus))) {
    context.logger.warn('clone outcome not delivered: client has gone', { ...line, exitstatus });
  }
}

function refuseUnlocked(
  job: CloneJob,
  lane: CloneLane,
  error: unknown,
  context: CloneContext,
): void {
  const failure = isProxyError(error)
    ? error
    : new ProxyError(
        'CLONE_PROXY_LOCK_UNAVAILABLE',
        `lane lock unavailable (${(error as Error).message})`,
        { cause: error },
      );
  context.logger.error('clone refused: the shared lane lock is out of reach', {
    ...describeJob(job),
    lane: lane.name,
    reason: failure.message,
  });
  context.events.emit('refused', 'lock-unavailable');
  const message = `pve-clone-proxy: ${failure.message}; clone not sent`;
  job.answer(
    createRefusalAnswer(
      job.route,
      job.requestId,
      new ProxyError(failure.code, message),
      lane.estimateWaitSeconds(),
    ),
  );
}

function relayRefusal(
  job: CloneJob,
  lane: CloneLane,
  answer: PveAnswer,
  unexpected: string | undefined,
  timing: Timing,
  context: CloneContext,
): void {
  const line = { ...describeJob(job), status: answer.status, ...timing };
  if (unexpected)
    context.logger.warn('clone answer is not what PVE sends; relayed as it is', {
      ...line,
      reason: unexpected,
    });
  else context.logger.info('clone refused by pve', line);

  context.events.emit('finished', {
    job,
    lane,
    outcome: 'not-started',
    status: answer.status,
    ...timing,
  });
  job.answer(annotate(job, answer, 'not-started', timing));
}

/**
 * The clone request failed. If PVE may have received it, a task may run anyway: find it and
 * hold the slot until it stops, so the next clone does not collide with it.
 */
async function recoverFailedClone(
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

  const search = await findStartedCloneTask(job, dispatchedAt, context);
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

/** Tasks of one kind take about as long as each other: same node, source, copy mode and storage. */
function createTaskKind(job: CloneJob, upid: Upid): string {
  const { full, storage, snapname } = job.request.params;
  return JSON.stringify([upid.node, job.route.vmid, full ?? '', storage ?? '', snapname ?? '']);
}

function logTaskEnd(end: TaskEnd, line: Record<string, unknown>, context: CloneContext): void {
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

function toOutcome(end: TaskEnd): TaskOutcome {
  if (end.kind === 'stopped') return 'stopped';
  return end.kind === 'timeout' ? 'running' : 'unknown';
}

function annotate(
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

function proxyAnswer(
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
