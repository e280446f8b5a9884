import { setTimeout as sleep } from 'node:timers/promises';

import { readEnvelopeData } from '../pve/answer';
import type { CloneRoute } from '../pve/clone-route';
import { parseUpid, type Upid } from '../pve/upid';
import { getFromPve } from '../upstream/pve-get';
import type { CloneContext } from './clone-context';

// pve-container and qemu-server fork their clone workers under these task types.
const CLONE_TASK_TYPE = { lxc: 'vzclone', qemu: 'qmclone' } as const;

/** The guest a clone copies, on the node the clone was sent to. */
export type CloneSource = Pick<CloneRoute, 'node' | 'vmid' | 'guestType'>;

/** What a look through the node's task list found. */
export type TaskSearch = { found: Upid } | { found: undefined; reason?: string };

/**
 * After a clone request failed in a way that PVE may still have acted on (reset, timeout),
 * look for a clone task (`vzclone`, `qmclone`) of the same source started since the dispatch, in
 * the node's task list (pve-manager PVE/API2/Tasks.pm, node_tasks), with a client's credentials.
 */
export async function findStartedCloneTask(
  route: CloneSource,
  credentials: string[],
  dispatchedAt: number,
  context: CloneContext,
): Promise<TaskSearch> {
  const since = Math.floor(dispatchedAt / 1000) - 1;
  const query = new URLSearchParams({
    typefilter: CLONE_TASK_TYPE[route.guestType],
    vmid: route.vmid,
    since: String(since),
    source: 'all',
  });
  const path = `/api2/json/nodes/${encodeURIComponent(route.node)}/tasks?${query}`;

  let entries: unknown;
  try {
    const answer = await getFromPve(context, path, credentials);
    if (answer.status !== 200)
      return { found: undefined, reason: `task list: HTTP ${answer.status} ${answer.reason}` };
    entries = readEnvelopeData(answer);
  } catch (error) {
    return { found: undefined, reason: `task list: ${(error as Error).message}` };
  }

  return { found: pickNewest(entries, CLONE_TASK_TYPE[route.guestType], route.vmid, since) };
}

function pickNewest(entries: unknown, type: string, vmid: string, since: number): Upid | undefined {
  if (!Array.isArray(entries)) return undefined;

  let newest: Upid | undefined;
  for (const entry of entries) {
    const upid = parseUpid((entry as { upid?: unknown }).upid);
    if (!upid) continue;
    if (upid.type !== type || upid.id !== vmid || upid.starttime < since) continue;
    if (!newest || upid.starttime > newest.starttime) newest = upid;
  }
  return newest;
}

/**
 * Look until `untilMs` (epoch): PVE's synchronous part of a clone (locks, config) may still be
 * running when the request to it failed, so its task can appear in the list a little later.
 */
export async function findStartedCloneTaskUntil(
  source: CloneSource,
  credentials: string[],
  dispatchedAt: number,
  untilMs: number,
  context: CloneContext,
): Promise<TaskSearch> {
  for (;;) {
    const search = await findStartedCloneTask(source, credentials, dispatchedAt, context);
    if (search.found || Date.now() >= untilMs) return search;
    await sleep(Math.min(context.config.pollIntervalMs, Math.max(0, untilMs - Date.now())));
  }
}
