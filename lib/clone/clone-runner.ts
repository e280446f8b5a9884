import { isProxyError, ProxyError } from '../errors';
import type { PveAnswer } from '../pve/answer';
import type { Upid } from '../pve/upid';
import { exchangeUpstream } from '../upstream/upstream-exchange';
import { describeGatewayAnswer, describeUpstreamFailure } from '../upstream/upstream-failure';
import { readCloneAcceptance } from './clone-acceptance';
import { annotate, logTaskEnd, type Timing, toOutcome } from './clone-answers';
import type { CloneContext } from './clone-context';
import { type CloneJob, describeJob } from './clone-job';
import type { CloneLane, CloneRunner } from './clone-lane';
import { createDispatchMark } from './dispatch-mark';
import { recoverFailedClone } from './failed-clone';
import { waitForForeignTask } from './foreign-task';
import type { LaneLease } from './lane-lock';
import { createPollSchedule } from './poll-schedule';
import { createRefusalAnswer } from './refusal-answer';
import { watchTask } from './task-watch';

/**
 * Run one clone in its lane's slot: send it to PVE, and if PVE started a task, hold the slot
 * until the task has stopped; then answer the clients with PVE's own clone answer.
 */
export function createCloneRunner(context: CloneContext): CloneRunner {
  return {
    run: (job, lane, lease) => runClone(job, lane, lease, context),
    waitForTask: (job, upid) => waitForForeignTask(job, upid, context),
    refuse: (job, lane, error) => refuseUnlocked(job, lane, error, context),
    crashed: (job, lane, error) => answerCrash(job, lane, error, context),
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
  // Stored before sending: a proxy that dies before PVE answers leaves a trace to look for.
  await lease.recordTask(createDispatchMark(job.route, dispatchedAt));
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

  // A gateway's answer (pveproxy's 59x after its 30 s wait, or a 502-504 from a proxy in front
  // of PVE) says nothing about the clone handler, which may still have started the task.
  const gatewayFailure = describeGatewayAnswer(answer, context.config.target);
  if (gatewayFailure)
    return recoverFailedClone(job, lane, lease, gatewayFailure, dispatchedAt, timing, context);

  const acceptance = readCloneAcceptance(answer, job.route.format);
  if (!acceptance.accepted) {
    return relayRefusal(job, lane, answer, acceptance.unexpected, timing(), context);
  }

  // poll task, then release
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
  if (end.kind === 'stopped') context.durations.record(kind, end.endedAfterMs, end.endedBeforeMs);
  const ended = timing();
  const line = {
    ...describeJob(job),
    upid,
    ...ended,
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
    ...ended,
  });
  if (job.answered) return;
  if (!job.answer(annotate(job, answer, outcome, ended, exitstatus))) {
    context.logger.warn('clone outcome not delivered: client has gone', { ...line, exitstatus });
  }
}

function answerCrash(job: CloneJob, lane: CloneLane, error: unknown, context: CloneContext): void {
  const reason = error instanceof Error ? error.message : String(error);
  context.logger.error('clone failed inside the proxy', {
    ...describeJob(job),
    lane: lane.name,
    reason,
  });
  if (job.answered) return;

  const failure = new ProxyError(
    'CLONE_PROXY_INTERNAL',
    'pve-clone-proxy: internal error; see the proxy log',
  );
  job.answer(createRefusalAnswer(job.route, job.requestId, failure));
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

/** Tasks of one kind take about as long as each other: same node, source, copy mode and storage. */
function createTaskKind(job: CloneJob, upid: Upid): string {
  const { full, storage, snapname } = job.request.params;
  return JSON.stringify([upid.node, job.route.vmid, full ?? '', storage ?? '', snapname ?? '']);
}
