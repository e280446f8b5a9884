import type { Cluster } from './cluster';
import type { FakeFaults, FakeRawResponse } from './types';

/** What the next clone POST should suffer; several faults can apply to one request. */
export interface CloneFault {
  answer?: FakeRawResponse;
  delayMs?: number;
  drop: boolean;
}

export interface Faults extends FakeFaults {
  takeStatusFault(): FakeRawResponse | undefined;
  takeCloneFault(): CloneFault;
}

/** A fault armed for the next n requests of its kind. */
interface Armed<T> {
  remaining: number;
  value: T;
}

export function createFaults(cluster: Cluster): Faults {
  let statusFault: Armed<FakeRawResponse> | undefined;
  let answerFault: Armed<FakeRawResponse> | undefined;
  let delayFault: Armed<number> | undefined;
  let dropFault: Armed<true> | undefined;

  function take<T>(armed: Armed<T> | undefined): T | undefined {
    if (!armed || armed.remaining <= 0) return undefined;
    armed.remaining--;
    return armed.value;
  }

  return {
    failStatusPolls(n, status, reason, body = '') {
      statusFault = { remaining: count(n), value: { status, reason, body } };
    },
    delayClones(n, ms) {
      delayFault = { remaining: count(n), value: ms };
    },
    dropCloneAnswers(n) {
      dropFault = { remaining: count(n), value: true };
    },
    answerClones(n, response) {
      answerFault = { remaining: count(n), value: response };
    },

    lockGuest(vmid, lock) {
      const guest = cluster.guest(vmid);
      if (!guest) throw new RangeError(`fake-pve: no guest ${vmid} to lock`);
      guest.lock = lock;
    },

    takeStatusFault: () => take(statusFault),

    takeCloneFault() {
      const answer = take(answerFault);
      if (answer) return { answer, drop: false };
      return { delayMs: take(delayFault), drop: take(dropFault) === true };
    },
  };
}

function count(n: number): number {
  if (!Number.isInteger(n) || n < 0) {
    throw new RangeError(`fake-pve: a fault count must be a whole number >= 0, got ${n}`);
  }
  return n;
}
