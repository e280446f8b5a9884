import assert from 'node:assert/strict';

import {
  createPollSchedule,
  MIN_POLL_MS,
  type PollSchedule,
  UNKNOWN_POLL_MS,
  UNKNOWN_SHARE,
} from '../../lib/clone/poll-schedule';
import { TaskDurations } from '../../lib/clone/task-durations';
import { mulberry32 } from '../support/random';

/** The poll times a schedule produces for a task of `durationMs`, until it is seen stopped. */
function pollTimes(schedule: PollSchedule, durationMs: number): number[] {
  const times: number[] = [];
  let now = 0;
  while (now < durationMs && times.length < 10_000) {
    now += schedule(now);
    times.push(now);
  }
  return times;
}

/** Watch one task as the runner does and record where it ended, as the runner does. */
function watchOne(durations: TaskDurations, kind: string, durationMs: number): number[] {
  const times = pollTimes(createPollSchedule(2000, true, durations.estimate(kind)), durationMs);
  const running = times.filter((time) => time < durationMs);
  durations.record(kind, running.at(-1) ?? 0, times.at(-1));
  return times;
}

const lastOf = (times: number[]) => times[times.length - 1] ?? Number.NaN;
const gapsOf = (times: number[]) => times.map((time, i) => time - (times[i - 1] ?? 0));

describe('createPollSchedule', () => {
  it('should poll at the fixed interval when adaptive polling is off', () => {
    const times = pollTimes(createPollSchedule(2000, false), 5000);
    assert.deepEqual(times, [2000, 4000, 6000]);
  });

  it('should see a task of unknown length stop within 200 ms, or 2 % of its run time when longer', () => {
    for (const durationMs of [150, 800, 4100, 8000, 30_000]) {
      const times = pollTimes(createPollSchedule(2000, true), durationMs);
      const seenLateMs = lastOf(times) - durationMs;
      const allowedMs = Math.max(UNKNOWN_POLL_MS, durationMs * UNKNOWN_SHARE, 300 - durationMs);
      assert.ok(seenLateMs <= allowedMs, `${durationMs} ms task seen ${seenLateMs} ms late`);
    }
  });

  it('should never wait longer than the interval, nor less than the densest step', () => {
    const random = mulberry32(7);
    for (let round = 0; round < 200; round++) {
      const intervalMs = 50 + Math.floor(random() * 3000);
      const earliestMs = Math.floor(random() * 10_000);
      const expected = { earliestMs, latestMs: earliestMs + random() * 500, samples: 3 };
      const schedule = createPollSchedule(intervalMs, true, round % 2 ? expected : undefined);
      for (const gap of gapsOf(pollTimes(schedule, random() * 20_000))) {
        assert.ok(gap <= intervalMs && gap >= Math.min(MIN_POLL_MS, intervalMs), `${gap} ms`);
      }
    }
  });

  it('should see a task ending inside the expected window within a dense step, in a few polls', () => {
    const expected = { earliestMs: 3950, latestMs: 4150, samples: 5 };
    for (const durationMs of [3950, 4000, 4100, 4150]) {
      const times = pollTimes(createPollSchedule(2000, true, expected), durationMs);
      const seenLateMs = lastOf(times) - durationMs;
      assert.ok(seenLateMs <= 200 / 4 + 1, `seen ${seenLateMs} ms late`);
      // One poll at the 2 s bound, at most five inside the window.
      assert.ok(times.length <= 7, `${times.length} polls: ${times.join(', ')}`);
    }
  });

  it('should back off again when a task runs far past its expected window', () => {
    const expected = { earliestMs: 990, latestMs: 1010, samples: 5 };
    const times = pollTimes(createPollSchedule(2000, true, expected), 20_000);
    const late = gapsOf(times).slice(-5);
    assert.ok(
      late.every((gap) => gap >= UNKNOWN_POLL_MS),
      `last waits ${late.join(', ')}`,
    );
    assert.ok(times.length < 20_000 / UNKNOWN_POLL_MS, `${times.length} polls`);
  });
});

describe('TaskDurations', () => {
  it('should know nothing of a kind before one of its tasks ended', () => {
    const durations = new TaskDurations();
    durations.record('a', 1000, 1020);
    assert.equal(durations.estimate('b'), undefined);
    assert.equal(durations.estimate('a')?.samples, 1);
  });

  it('should narrow the window from a coarse first sighting to where tasks really end', () => {
    const durations = new TaskDurations();
    const random = mulberry32(11);
    const lengths = Array.from({ length: 8 }, () => 4000 * (1 + 0.02 * (2 * random() - 1)));
    const polls = lengths.map((durationMs) => watchOne(durations, 'kind', durationMs).length);

    // From the first task's 200 ms wide sighting to a window around the ends seen since.
    const window = durations.estimate('kind');
    const recent = lengths.slice(2);
    assert.ok(
      window &&
        window.earliestMs <= Math.min(...recent) &&
        window.latestMs >= Math.max(...recent) &&
        window.latestMs - window.earliestMs <= 400,
      JSON.stringify(window),
    );
    // The first task costs about five polls a second; later ones the 2 s bound and a few more.
    assert.ok(polls[0] > 15, `first: ${polls[0]} polls`);
    assert.ok(Math.max(...polls.slice(3)) <= 6, `later: ${polls.join(', ')}`);
  });

  it('should ignore a sighting that is not a finite number, keeping the waits bounded', () => {
    const durations = new TaskDurations();
    const clean = new TaskDurations();
    durations.record('kind', 1000, 1020);
    clean.record('kind', 1000, 1020);
    for (const [afterMs, beforeMs] of [
      [Number.NaN, Number.NaN],
      [1000, Number.NaN],
      [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY],
    ]) {
      durations.record('kind', afterMs, beforeMs);
    }

    assert.deepEqual(durations.estimate('kind'), clean.estimate('kind'));
    const schedule = createPollSchedule(2000, true, durations.estimate('kind'));
    for (const gap of gapsOf(pollTimes(schedule, 5000))) {
      assert.ok(gap >= MIN_POLL_MS && gap <= 2000, `${gap} ms`);
    }
  });

  it('should keep seeing tasks that get a little faster, or slower, each time', () => {
    for (const factor of [0.97, 1.03]) {
      const durations = new TaskDurations();
      const late: number[] = [];
      for (let i = 0; i < 12; i++) {
        const durationMs = 4000 * factor ** i;
        late.push(lastOf(watchOne(durations, 'kind', durationMs)) - durationMs);
      }
      assert.ok(Math.max(...late.slice(1)) <= 300, `${factor}: seen late by ${late.join(', ')}`);
    }
  });

  it('should follow tasks that became faster', () => {
    const durations = new TaskDurations();
    for (let i = 0; i < 6; i++) watchOne(durations, 'kind', 3000 + i);
    for (let i = 0; i < 8; i++) watchOne(durations, 'kind', 1500 + i);

    const window = durations.estimate('kind');
    assert.ok(window && window.latestMs < 1700, JSON.stringify(window));
    const times = watchOne(durations, 'kind', 1500);
    assert.ok(lastOf(times) - 1500 <= 60, `seen at ${lastOf(times)}`);
  });
});
