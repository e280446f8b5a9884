import { setTimeout as sleep } from 'node:timers/promises';
import { readEnvelopeData } from '../pve/answer';

import { parseUpid } from '../pve/upid';
import { getFromPve } from '../upstream/pve-get';
import type { CloneContext } from './clone-context';
import { type CloneJob, describeJob } from './clone-job';
import { createPollSchedule } from './poll-schedule';
import { watchTask } from './task-watch';

/**
 * Another proxy held this lane, vanished mid-task, and its lease ran out. Before our clone goes,
 * make sure that task really stopped: poll it with our client's credentials, and if those may
 * not read it (another token's task), wait until the source carries no config lock any more
 * (pve-container: the worker removes `lock: disk` before the task ends).
 */
export async function waitForForeignTask(
  job: CloneJob,
  text: string,
  context: CloneContext,
): Promise<void> {
  const upid = parseUpid(text);
  if (!upid) return;

  context.logger.warn('lane taken over from a vanished owner; checking its task', {
    ...describeJob(job),
    upid: text,
  });
  const end = await watchTask(upid, job.request.credentials, context, {
    schedule: createPollSchedule(context.config.pollIntervalMs, context.config.adaptivePolling),
    meta: describeJob(job),
  });
  if (end.kind === 'stopped') return;

  await waitForSourceUnlocked(job, context);
}

async function waitForSourceUnlocked(job: CloneJob, context: CloneContext): Promise<void> {
  const { route } = job;
  const path = `/api2/json/nodes/${encodeURIComponent(route.node)}/${route.guestType}/${encodeURIComponent(route.vmid)}/config`;
  const deadline = Date.now() + context.config.pollTimeoutMs;

  while (Date.now() < deadline) {
    try {
      const answer = await getFromPve(context, path, job.request.credentials);
      const config = readEnvelopeData(answer) as { lock?: string } | undefined;
      if (answer.status === 200 && !config?.lock) return;
      if (answer.status !== 200 && answer.status < 500) return;
    } catch {
      // PVE unreachable for a moment: keep waiting, the lane stays blocked.
    }
    await sleep(context.config.pollIntervalMs);
  }
}
