import { readEnvelopeData } from '../pve/answer';
import { parseUpid, type Upid } from '../pve/upid';
import { getFromPve } from '../upstream/pve-get';
import type { CloneContext } from './clone-context';
import type { CloneJob } from './clone-job';

// pve-container and qemu-server fork their clone workers under these task types.
const CLONE_TASK_TYPE = { lxc: 'vzclone', qemu: 'qmclone' } as const;

/** What a look through the node's task list found. */
export type TaskSearch = { found: Upid } | { found: undefined; reason?: string };

/**
 * After a clone request failed in a way that PVE may still have acted on (reset, timeout),
 * look for a `vzclone` task of the same source started since the dispatch, in the node's task
 * list (pve-manager PVE/API2/Tasks.pm, node_tasks), with the client's own credentials.
 */
export async function findStartedCloneTask(
  job: CloneJob,
  dispatchedAt: number,
  context: CloneContext,
): Promise<TaskSearch> {
  const { route } = job;
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
    const answer = await getFromPve(context, path, job.request.credentials);
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
