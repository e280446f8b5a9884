import { createFakePve, type FakeGuest } from '../../../lib/fake-pve';
import { serveParent } from '../support/bench-child';

/** What the parent asks of the double, as JSON in `BENCH_DOUBLE`. */
export interface DoubleSettings {
  /** Extra guests on top of the double's defaults (CT 9000, 9002, 100, VM 9001). */
  extraGuests?: FakeGuest[];
  /** Task duration per new id; others take `defaultTaskMs`. */
  taskMsByNewid?: Record<string, number>;
  defaultTaskMs?: number;
  /**
   * Forget recorded requests this often. Under load the record would keep every body; the
   * clone figures need the record, the passthrough runs do not.
   */
  forgetEveryMs?: number;
}

/** One clone task as the parent needs it, with the arrival of the POST that started it. */
export interface DoubleClone {
  vmid: number;
  newid: number;
  startedAt: number;
  endedAt?: number;
  postReceivedAt?: number;
  /** The first status poll of this task that reached the double after the task ended. */
  stopSeenAt?: number;
}

export interface DoubleRecord {
  clones: DoubleClone[];
  statusPolls: number;
  /** The most clone tasks the double ran at once: 1 if every proxy kept to the shared lane. */
  maxConcurrentCloneTasks: number;
}

const settings = JSON.parse(process.env.BENCH_DOUBLE ?? '{}') as DoubleSettings;
const node = 'pve1';
const defaultGuests: FakeGuest[] = [
  { vmid: 9000, node, template: true, storage: 'local-lvm', hostname: 'tpl-9000' },
  { vmid: 9002, node, template: true, storage: 'local-lvm', hostname: 'tpl-9002' },
  { vmid: 100, node, storage: 'local-lvm', hostname: 'ct100' },
  { vmid: 9001, type: 'qemu', node, template: true, storage: 'local-lvm', name: 'tpl-9001' },
];

const pve = createFakePve({
  authDelayMs: 0,
  guests: [...defaultGuests, ...(settings.extraGuests ?? [])],
  taskDurationMs: (clone) =>
    settings.taskMsByNewid?.[String(clone.newid)] ?? settings.defaultTaskMs ?? 200,
});

async function main(): Promise<void> {
  const url = await pve.listen(0, '127.0.0.1');
  if (settings.forgetEveryMs) {
    setInterval(() => pve.record.reset(), settings.forgetEveryMs).unref();
  }

  serveParent(
    {
      record: (): DoubleRecord => {
        const posts = new Map<number, number>();
        const stopSeen = new Map<string, number>();
        const ends = new Map(pve.record.cloneTasks.map((task) => [task.upid, task.endedAt]));
        for (const request of pve.record.requests) {
          const upid = readPolledUpid(request.method, request.url);
          const endedAt = upid ? ends.get(upid) : undefined;
          if (upid && endedAt !== undefined && request.receivedAt >= endedAt && !stopSeen.has(upid))
            stopSeen.set(upid, request.receivedAt);

          if (request.method !== 'POST' || !request.url.endsWith('/clone')) continue;
          const newid = Number(new URLSearchParams(request.body.toString('utf8')).get('newid'));
          if (!posts.has(newid)) posts.set(newid, request.receivedAt);
        }
        const clones = pve.record.cloneTasks.map((task) => ({
          vmid: task.vmid,
          newid: task.newid,
          startedAt: task.startedAt,
          endedAt: task.endedAt,
          postReceivedAt: posts.get(task.newid),
          stopSeenAt: stopSeen.get(task.upid),
        }));
        return {
          clones,
          statusPolls: pve.record.statusPolls,
          maxConcurrentCloneTasks: pve.record.maxConcurrentCloneTasks,
        };
      },
      stop: () => pve.close(),
    },
    { url },
  );
}

/** The UPID a `GET …/tasks/<UPID>/status` asks about. */
function readPolledUpid(method: string, url: string): string | undefined {
  if (method !== 'GET') return undefined;
  const match = /\/tasks\/([^/?]+)\/status/.exec(url);
  return match ? decodeURIComponent(match[1]) : undefined;
}

void main();
