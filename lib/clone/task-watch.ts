import { setTimeout as sleep } from 'node:timers/promises';

import { type PveAnswer, readEnvelopeData } from '../pve/answer';
import { createTaskStatusPath, type Upid } from '../pve/upid';
import { getFromPve } from '../upstream/pve-get';
import { describeUpstreamFailure } from '../upstream/upstream-failure';
import type { CloneContext } from './clone-context';
import type { PollSchedule } from './poll-schedule';

/**
 * How watching a task ended. A stopped task ended between the last poll that saw it running
 * and the one that saw it stopped (milliseconds since the watch began).
 */
export type TaskEnd =
  | { kind: 'stopped'; exitstatus: string; endedAfterMs: number; endedBeforeMs: number }
  | { kind: 'timeout' }
  | { kind: 'unknown'; reason: string };

/** Consecutive refusals (400/401/403...) after which the task is given up as unreadable. */
export const MAX_REFUSED_POLLS = 5;

/**
 * Poll `GET /nodes/<UPID node>/tasks/<UPID>/status` with the client's own credentials until
 * PVE says `stopped`, whatever the exitstatus (`OK`, `WARNINGS: n` and errors all end it).
 * Network errors, timeouts and 5xx (PVE's 595/596 included) are transient: keep polling, keep
 * the slot, decide nothing. Refusals are counted and end the watch only when they persist,
 * because a token that cannot read the task would otherwise block the lane forever.
 */
export async function watchTask(
  upid: Upid,
  credentials: string[],
  context: CloneContext,
  options: {
    schedule: PollSchedule;
    onPollFailed?: (kind: 'transient' | 'refused') => void;
    /** Log metadata of the clone this task belongs to (its requestId above all). */
    meta?: Record<string, unknown>;
  },
): Promise<TaskEnd> {
  const { config, logger } = context;
  // A monotonic clock: a wall-clock step would move the deadline and skew learned durations.
  const now = () => performance.now();
  const started = now();
  const deadline = started + config.pollTimeoutMs;
  let refused = 0;
  let transient = 0;
  let lastRunningMs = 0;

  while (now() < deadline) {
    const planned =
      transient > 0
        ? transientBackoff(config.pollIntervalMs, transient)
        : options.schedule(now() - started);
    await sleep(Math.max(0, Math.min(planned, deadline - now())));

    const polledMs = now() - started;
    const poll = await pollOnce(upid, credentials, context);
    if (poll.kind === 'stopped') {
      return { ...poll, endedAfterMs: lastRunningMs, endedBeforeMs: now() - started };
    }

    if (poll.kind === 'running') {
      lastRunningMs = polledMs;
      refused = 0;
      transient = 0;
    } else if (poll.kind === 'transient') {
      transient += 1;
      options.onPollFailed?.('transient');
      logger.debug('task poll failed, will retry', {
        ...options.meta,
        upid: upid.upid,
        reason: poll.reason,
        transient,
      });
    } else {
      refused += 1;
      transient = 0;
      options.onPollFailed?.('refused');
      logger.debug('task poll refused', {
        ...options.meta,
        upid: upid.upid,
        reason: poll.reason,
        refused,
      });
      if (refused >= MAX_REFUSED_POLLS) return { kind: 'unknown', reason: poll.reason };
    }
  }

  return { kind: 'timeout' };
}

/** Back off on failures PVE may recover from, up to half a minute between tries. */
function transientBackoff(intervalMs: number, failures: number): number {
  return Math.min(intervalMs * 2 ** Math.min(failures - 1, 4), 30_000);
}

type Poll =
  | { kind: 'stopped'; exitstatus: string }
  | { kind: 'running' }
  | { kind: 'transient'; reason: string }
  | { kind: 'refused'; reason: string };

async function pollOnce(upid: Upid, credentials: string[], context: CloneContext): Promise<Poll> {
  let answer: PveAnswer;
  try {
    answer = await getFromPve(context, createTaskStatusPath(upid), credentials);
  } catch (error) {
    return {
      kind: 'transient',
      reason: describeUpstreamFailure(error, context.config.target).message,
    };
  }

  return classifyStatusAnswer(answer);
}

/** Read one task status answer (pve-manager PVE/API2/Tasks.pm, read_task_status). */
export function classifyStatusAnswer(answer: PveAnswer): Poll {
  const line = `HTTP ${answer.status} ${answer.reason}`.trim();
  if (answer.status >= 500) return { kind: 'transient', reason: line };
  if (answer.status !== 200) return { kind: 'refused', reason: `${line}${describeErrors(answer)}` };

  const data = parseData(answer);
  if (data?.status === 'stopped') {
    // PVE's exitstatus is one line of its task log; anything else is not to be trusted.
    const exitstatus =
      typeof data.exitstatus === 'string' ? data.exitstatus.slice(0, 512) : 'unexpected status';
    return { kind: 'stopped', exitstatus };
  }
  if (data?.status === 'running') return { kind: 'running' };
  return { kind: 'transient', reason: `${line} without a task status` };
}

function parseData(answer: PveAnswer): { status?: unknown; exitstatus?: unknown } | undefined {
  const data = readEnvelopeData(answer);
  return data && typeof data === 'object' ? data : undefined;
}

function describeErrors(answer: PveAnswer): string {
  try {
    const parsed = JSON.parse(answer.body.toString('utf8')) as { errors?: unknown };
    return parsed.errors ? ` ${JSON.stringify(parsed.errors)}` : '';
  } catch {
    return '';
  }
}
