import type { PveAnswer } from '../pve/answer';
import type { CloneRoute } from '../pve/clone-route';
import type { PveParams } from '../pve/params';

/** What the proxy tells a client in its own headers about the clone it handled. */
export type TaskOutcome = 'stopped' | 'running' | 'unknown' | 'not-started';

/** One client waiting for a clone's answer; false from `deliver` means it has gone. */
export interface CloneWaiter {
  deliver(answer: PveAnswer): boolean;
}

export interface CloneRequest {
  requestId: string;
  route: CloneRoute;
  /** The raw request target, forwarded unchanged. */
  target: string;
  /** Header pairs to send to PVE (hop-by-hop removed, forwarding headers added). */
  headers: string[];
  body: Buffer;
  params: PveParams;
  /** The client's own credentials, reused for task polls. */
  credentials: string[];
  /** Identical clones (same node, source, parameters, credentials) share this key. */
  key: string;
}

/**
 * One clone from admission to answer. It knows nothing of Express: clients are reduced to
 * waiters. Identical retries join as further waiters and get the same answer; the job counts as
 * abandoned only when every waiter has gone.
 */
export class CloneJob {
  readonly request: CloneRequest;
  readonly enqueuedAt = Date.now();
  private readonly waiters = new Set<CloneWaiter>();
  private settled: PveAnswer | undefined;

  constructor(request: CloneRequest, first: CloneWaiter) {
    this.request = request;
    this.waiters.add(first);
  }

  get requestId(): string {
    return this.request.requestId;
  }

  get route(): CloneRoute {
    return this.request.route;
  }

  /** Add a client; one that joins after the answer gets it at once. */
  join(waiter: CloneWaiter): void {
    if (this.settled) {
      waiter.deliver(this.settled);
      return;
    }
    this.waiters.add(waiter);
  }

  /** Remove a client that has gone; resolves to true when nobody waits any more. */
  leave(waiter: CloneWaiter): boolean {
    this.waiters.delete(waiter);
    return this.waiters.size === 0 && !this.settled;
  }

  /** True while at least one client still waits for the answer. */
  get wanted(): boolean {
    return this.waiters.size > 0;
  }

  /** Deliver the answer to every waiting client; false when none was there to take it. */
  answer(answer: PveAnswer): boolean {
    if (this.settled) return false;
    this.settled = answer;

    let delivered = false;
    for (const waiter of this.waiters) delivered = waiter.deliver(answer) || delivered;
    this.waiters.clear();
    return delivered;
  }

  get answered(): boolean {
    return this.settled !== undefined;
  }
}

/** Who is asking for a clone, for logs and status: never credentials. */
export function describeJob(job: CloneJob): Record<string, unknown> {
  const newid = job.request.params.newid;
  return {
    requestId: job.requestId,
    node: job.route.node,
    vmid: job.route.vmid,
    newid: typeof newid === 'string' ? newid : undefined,
  };
}
