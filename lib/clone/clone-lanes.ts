import { setTimeout as sleep } from 'node:timers/promises';

import { ProxyError } from '../errors';
import type { CloneContext } from './clone-context';
import { type CloneJob, describeJob } from './clone-job';
import { CloneLane } from './clone-lane';
import { createCloneRunner } from './clone-runner';
import { createRefusalAnswer } from './refusal-answer';

/**
 * All lanes of one proxy and the rule that picks a job's lane. Today there is one global lane:
 * PVE's storage locks collide across templates (field report R03), so per-node or per-source
 * lanes are only safe with knowledge of the storages; the rule lives here alone so that such
 * lanes can be added without touching admission or the runner.
 */
export interface CloneLanes {
  laneFor(job: CloneJob): CloneLane;
  list(): CloneLane[];
  /** The queued or running job an identical clone may join, with its lane. */
  findActive(key: string): { job: CloneJob; lane: CloneLane } | undefined;
  /** True once shutdown began: no new jobs are taken. */
  readonly closing: boolean;
  /**
   * Stop taking jobs, answer every waiting one with 503 (never sent), and wait up to
   * `timeoutMs` for the clones in flight. Resolves with what was still running at the end.
   */
  shutdown(timeoutMs: number): Promise<{ withdrawn: number; unfinished: CloneJob[] }>;
}

export function createCloneLanes(context: CloneContext): CloneLanes {
  const runner = createCloneRunner(context);
  const lanes = [new CloneLane('global', context.config.queueSize, runner)];
  let closing = false;

  return {
    laneFor: () => lanes[0],
    list: () => lanes,
    findActive(key) {
      for (const lane of lanes) {
        const job = lane.findActive(key);
        if (job) return { job, lane };
      }
      return undefined;
    },
    get closing() {
      return closing;
    },
    async shutdown(timeoutMs) {
      closing = true;
      let withdrawn = 0;
      for (const lane of lanes) {
        for (const job of lane.listWaiting()) {
          if (!lane.withdraw(job)) continue;
          withdrawn += 1;
          answerShutdown(job, lane.estimateWaitSeconds());
          context.logger.warn('clone withdrawn: proxy shutting down', describeJob(job));
          context.events.emit('withdrawn', job, 'shutdown');
        }
      }

      const drained = Promise.all(lanes.map((lane) => lane.drained()));
      const timer = new AbortController();
      await Promise.race([
        drained,
        sleep(timeoutMs, undefined, { signal: timer.signal }).catch(() => {}),
      ]);
      timer.abort();

      const unfinished = lanes.flatMap((lane) => (lane.inFlight ? [lane.inFlight.job] : []));
      return { withdrawn, unfinished };
    },
  };
}

function answerShutdown(job: CloneJob, retryAfterSeconds: number): void {
  const error = new ProxyError(
    'CLONE_PROXY_SHUTTING_DOWN',
    'pve-clone-proxy is shutting down; clone not sent',
  );
  job.answer(createRefusalAnswer(job.route, job.requestId, error, retryAfterSeconds));
}
