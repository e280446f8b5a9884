import { type QueueObject, queue } from 'async';

import type { CloneJob } from './clone-job';
import { createInProcessLaneLock, type LaneLease, type LaneLock } from './lane-lock';

/** Runs jobs to their end; never throws (failures are answered to the job's clients). */
export interface CloneRunner {
  run(job: CloneJob, lane: CloneLane, lease: LaneLease): Promise<void>;
  /** Answer a job that cannot run because the lane's lock is out of reach. */
  refuse(job: CloneJob, lane: CloneLane, error: unknown): void;
  /** Answer and log a job whose run failed unexpectedly (a fault of the proxy). */
  crashed(job: CloneJob, lane: CloneLane, error: unknown): void;
  /** Wait until a task another proxy started in this lane has stopped, polling as `job`'s client. */
  waitForTask(job: CloneJob, upid: string): Promise<void>;
}

/**
 * A lane: an `async.queue` of concurrency 1 with a bound on waiting jobs. Jobs whose clients
 * have all gone are withdrawn in O(1): they leave the waiting set at once and are skipped when
 * the queue reaches them, so a long queue never has to be searched.
 */
export class CloneLane {
  readonly name: string;
  private readonly queueSize: number;
  private readonly queue: QueueObject<CloneJob>;
  private readonly waiting = new Set<CloneJob>();
  private readonly active = new Map<string, CloneJob>();
  private running: CloneJob | undefined;
  private runningSince = 0;
  private averageTaskMs = 10_000;

  constructor(
    name: string,
    queueSize: number,
    runner: CloneRunner,
    lock: LaneLock = createInProcessLaneLock(),
    /** Called whenever the lane has nothing left to run or wait for. */
    private readonly onIdle: (lane: CloneLane) => void = () => {},
  ) {
    this.name = name;
    this.queueSize = queueSize;
    this.queue = queue<CloneJob, void, Error>(async (job) => {
      if (!this.waiting.has(job)) return;

      // Across processes the lane may be busy elsewhere: the job stays withdrawable meanwhile.
      let lease: LaneLease | undefined;
      try {
        lease = await lock.acquire(this.name, {
          isCancelled: () => !this.waiting.has(job),
          waitForTask: (upid) => runner.waitForTask(job, upid),
        });
      } catch (error) {
        if (this.waiting.delete(job)) runner.refuse(job, this, error);
        this.forget(job);
        return;
      }
      if (!lease || !this.waiting.delete(job)) {
        await lease?.release();
        return;
      }

      this.running = job;
      this.runningSince = Date.now();
      try {
        await runner.run(job, this, lease);
      } catch (error) {
        // async.queue would swallow this: the client must still get an answer, the log a line.
        runner.crashed(job, this, error);
      } finally {
        this.running = undefined;
        this.forget(job);
        this.averageTaskMs = 0.8 * this.averageTaskMs + 0.2 * (Date.now() - this.runningSince);
        if (this.waiting.size === 0) this.onIdle(this);
        await lease.release();
      }
    }, 1);
  }

  /** Queue a job; false when the lane is full. */
  submit(job: CloneJob): boolean {
    // One job may run and queueSize may wait; a job not yet picked up by the queue still
    // counts as waiting, so a burst cannot slip past the bound before the first one starts.
    const held = this.waiting.size + (this.running ? 1 : 0);
    if (held >= this.queueSize + 1) return false;

    this.waiting.add(job);
    this.active.set(job.request.key, job);
    // With a callback, async.queue keeps no promise per waiting job (thousands may wait).
    this.queue.push(job, ignoreQueueResult);
    return true;
  }

  /** The queued or running job an identical clone may join, if any. */
  findActive(key: string): CloneJob | undefined {
    return this.active.get(key);
  }

  /** Take a job out before its turn; false when it already started (or was never here). */
  withdraw(job: CloneJob): boolean {
    if (!this.waiting.delete(job)) return false;
    this.forget(job);
    if (this.waiting.size === 0 && !this.running) this.onIdle(this);
    return true;
  }

  /** Jobs still waiting, oldest first. */
  listWaiting(): CloneJob[] {
    return [...this.waiting];
  }

  get waitingCount(): number {
    return this.waiting.size;
  }

  get inFlight(): { job: CloneJob; since: number } | undefined {
    return this.running ? { job: this.running, since: this.runningSince } : undefined;
  }

  /** A fair guess, in whole seconds, of how long a new job would wait: for `Retry-After`. */
  estimateWaitSeconds(): number {
    const jobs = this.waiting.size + (this.running ? 1 : 0);
    return Math.min(3600, Math.max(1, Math.ceil((jobs * this.averageTaskMs) / 1000)));
  }

  /** Resolves once nothing runs and nothing waits. */
  async drained(): Promise<void> {
    if (this.queue.idle() && !this.running) return;
    await this.queue.drain();
  }

  private forget(job: CloneJob): void {
    if (this.active.get(job.request.key) === job) this.active.delete(job.request.key);
  }
}

/** The worker above answers every job itself; async.queue has nothing to report back. */
function ignoreQueueResult(): void {}
