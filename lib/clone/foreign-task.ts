import { setTimeout as sleep } from 'node:timers/promises';

import { readEnvelopeData } from '../pve/answer';
import { parseUpid, type Upid } from '../pve/upid';
import { getFromPve } from '../upstream/pve-get';
import type { CloneContext } from './clone-context';
import { type CloneJob, describeJob } from './clone-job';
import { parseDispatchMark } from './dispatch-mark';
import { createPollSchedule } from './poll-schedule';
import { type CloneSource, findStartedCloneTaskUntil } from './task-search';
import { watchTask } from './task-watch';

/**
 * Another proxy held this lane, vanished mid-clone, and its lease ran out. Before our clone
 * goes, make sure what it started has stopped. It left either the UPID of its task, or, when it
 * died between sending the clone and reading PVE's answer, a dispatch mark: then look for the
 * task in the node's task list first. The task is polled with our client's credentials; if
 * those may not read it (another token's task), wait until the source carries no config lock
 * (pve-container removes `lock: disk` before the task ends).
 */
export async function waitForForeignTask(
  job: CloneJob,
  text: string,
  context: CloneContext,
): Promise<void> {
  const meta = { ...describeJob(job), previous: text };
  context.logger.warn('lane taken over from a vanished owner; checking what it started', meta);

  const mark = parseDispatchMark(text);
  const upid = mark ? await findMarkedTask(mark, job, context) : parseUpid(text);
  const source: CloneSource | undefined = mark?.source ?? (upid ? sourceOf(upid) : undefined);
  if (!source) return;

  if (upid) {
    const end = await watchTask(upid, job.request.credentials, context, {
      schedule: createPollSchedule(context.config.pollIntervalMs, context.config.adaptivePolling),
      meta,
    });
    if (end.kind === 'stopped') return;
  }
  await waitForSourceUnlocked(source, job.request.credentials, context);
}

/** The sender died between its dispatch mark and PVE's answer: its task may appear later. */
async function findMarkedTask(
  mark: { source: CloneSource; dispatchedAt: number },
  job: CloneJob,
  context: CloneContext,
): Promise<Upid | undefined> {
  const until = mark.dispatchedAt + 2 * context.config.requestTimeoutMs;
  const credentials = job.request.credentials;
  const search = await findStartedCloneTaskUntil(
    mark.source,
    credentials,
    mark.dispatchedAt,
    until,
    context,
  );
  return search.found;
}

function sourceOf(upid: Upid): CloneSource | undefined {
  const guestType = upid.type === 'vzclone' ? 'lxc' : upid.type === 'qmclone' ? 'qemu' : undefined;
  return guestType ? { guestType, node: upid.node, vmid: upid.id } : undefined;
}

async function waitForSourceUnlocked(
  source: CloneSource,
  credentials: string[],
  context: CloneContext,
): Promise<void> {
  const path = `/api2/json/nodes/${encodeURIComponent(source.node)}/${source.guestType}/${encodeURIComponent(source.vmid)}/config`;
  const deadline = Date.now() + context.config.pollTimeoutMs;

  while (Date.now() < deadline) {
    try {
      const answer = await getFromPve(context, path, credentials);
      const config = readEnvelopeData(answer) as { lock?: string } | undefined;
      if (answer.status === 200 && !config?.lock) return;
      if (answer.status !== 200 && answer.status < 500) return;
    } catch {
      // PVE unreachable for a moment: keep waiting, the lane stays blocked.
    }
    await sleep(context.config.pollIntervalMs);
  }
}
