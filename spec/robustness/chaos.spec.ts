import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

import { type Reply, sendClone } from '../support/http-client';
import { mulberry32 } from '../support/random';
import { type Stack, startStack } from '../support/stack';
import { until } from '../support/until';

interface Sent {
  newid: number;
  body: string;
  aborted?: number;
  reply?: Reply;
  error?: Error;
}

const SEED = Number(process.env.CHAOS_SEED ?? 20261203);
const ROUNDS = 8;
const CLONES_PER_ROUND = 24;

describe(`chaos: random bursts, aborts, poll failures, slow and failing answers (seed ${SEED})`, () => {
  let stack: Stack;
  // Seeded, so that a failing run can be replayed with CHAOS_SEED.
  const random = mulberry32(SEED);

  before(async () => {
    stack = await startStack({
      pve: { taskDurationMs: () => 15 + Math.floor(random() * 40) },
      proxy: { pollIntervalMs: 10, requestTimeoutMs: 2000, queueSize: 1000 },
    });
  });

  after(() => stack.close());

  it('should keep every promise of the proxy', async () => {
    const sent: Sent[] = [];
    let nextId = 200;

    for (let round = 0; round < ROUNDS; round += 1) {
      injectFaults(stack, random);
      const burst: Promise<void>[] = [];
      for (let index = 0; index < CLONES_PER_ROUND; index += 1) {
        const retry = sent.length > 0 && random() < 0.1;
        if (!retry) nextId += 1;
        const original = sent[sent.length - 1 - Math.floor(random() * Math.min(5, sent.length))];
        const entry: Sent = retry
          ? { newid: original.newid, body: original.body }
          : createEntry(nextId);
        sent.push(entry);
        burst.push(run(stack, entry, random() < 0.15 ? Math.floor(random() * 150) : undefined));
      }
      await Promise.all(burst);
    }

    // the double never ran two clone tasks at once
    assert.equal(stack.pve.record.maxConcurrentCloneTasks, 1);

    // every live client got exactly one answer, of a kind the proxy may give
    for (const entry of sent.filter((candidate) => candidate.aborted === undefined)) {
      assert.ok(
        entry.reply,
        `client of newid ${entry.newid} got no answer: ${entry.error?.message}`,
      );
      assert.ok(
        [200, 500, 502].includes(entry.reply.status),
        `newid ${entry.newid}: HTTP ${entry.reply.status}`,
      );
    }

    // no clone was sent for a client that had gone before its turn, unless a live twin asked too
    for (const entry of sent.filter((candidate) => candidate.aborted !== undefined)) {
      const twinLive = sent.some(
        (other) => other.body === entry.body && other.aborted === undefined,
      );
      if (twinLive) continue;
      const posts = stack.pve.record.requests.filter(
        (request) => request.method === 'POST' && request.body.toString() === entry.body,
      );
      for (const post of posts) {
        assert.ok(
          post.receivedAt <= (entry.aborted ?? 0) + 25,
          `newid ${entry.newid} was sent after its client left`,
        );
      }
    }

    // the queue is empty and a new clone succeeds
    const lane = stack.proxy.proxy.middleware.lanes.list()[0];
    await until(() => lane.waitingCount === 0 && lane.inFlight === undefined, 'the lane is idle');
    const last = await sendClone(stack.proxyUrl, `newid=${nextId + 1}&full=1`);
    assert.equal(last.status, 200, last.body.toString());
    assert.equal(last.headers['x-clone-proxy-task'], 'stopped');
  });
});

function createEntry(newid: number): Sent {
  return { newid, body: `newid=${newid}&hostname=ct-${newid}&full=1` };
}

async function run(stack: Stack, entry: Sent, abortAfterMs?: number): Promise<void> {
  const controller = new AbortController();
  if (abortAfterMs !== undefined) {
    sleep(abortAfterMs).then(() => {
      if (entry.reply) return;
      entry.aborted = Date.now();
      controller.abort();
    });
  }
  try {
    entry.reply = await sendClone(stack.proxyUrl, entry.body, { signal: controller.signal });
  } catch (error) {
    entry.error = error as Error;
  }
}

function injectFaults(stack: Stack, random: () => number): void {
  const { faults } = stack.pve;
  if (random() < 0.5) {
    faults.failStatusPolls(
      1 + Math.floor(random() * 4),
      596,
      'Errors during TLS negotiation, request sending and header processing: Connection timed out',
      '',
    );
  }
  if (random() < 0.4)
    faults.delayClones(1 + Math.floor(random() * 3), 20 + Math.floor(random() * 80));
  if (random() < 0.3) {
    const body = JSON.stringify({ data: null, message: 'cluster not ready - no quorum?\n' });
    faults.answerClones(1, { status: 500, reason: 'cluster not ready - no quorum?', body });
  }
  if (random() < 0.3) faults.dropCloneAnswers(1);
}
