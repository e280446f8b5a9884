import assert from 'node:assert/strict';

import { createPollSchedule, LATE_POLL_CAP_MS } from '../../lib/clone/poll-schedule';
import { TaskDurations } from '../../lib/clone/task-durations';

/** The poll times a schedule produces for a task of `durationMs`, until it is seen stopped. */
function pollTimes(schedule: (elapsedMs: number) => number, durationMs: number): number[] {
  const times: number[] = [];
  let now = 0;
  while (now < durationMs && times.length < 10_000) {
    now += schedule(now);
    times.push(now);
  }
  return times;
}

describe('createPollSchedule', () => {
  it('should poll at the fixed interval when adaptive polling is off', () => {
    const times = pollTimes(createPollSchedule(2000, false), 5000);
    assert.deepEqual(times, [2000, 4000, 6000]);
  });

  it('should poll soon and back off geometrically when it knows nothing, never past the interval', () => {
    const times = pollTimes(createPollSchedule(2000, true), 8000);
    assert.equal(times[0], 100);
    const gaps = times.slice(1).map((time, index) => time - times[index]);
    assert.ok(gaps.every((gap) => gap <= LATE_POLL_CAP_MS));
    assert.ok(times.length <= 25, `${times.length} polls for an 8 s task`);
  });

  it('should see a task of the expected length stop within the dense interval', () => {
    const expected = { meanMs: 4000, deviationMs: 40, samples: 5 };
    for (const durationMs of [3920, 4000, 4080]) {
      const times = pollTimes(createPollSchedule(2000, true, expected), durationMs);
      const seenAfterMs = times[times.length - 1] - durationMs;
      assert.ok(seenAfterMs <= 60, `seen ${seenAfterMs} ms late`);
      assert.ok(
        times.length / (durationMs / 1000) <= 2,
        `${times.length} polls in ${durationMs} ms`,
      );
    }
  });

  it('should back off again when a task runs far past its expected end', () => {
    const expected = { meanMs: 1000, deviationMs: 10, samples: 5 };
    const times = pollTimes(createPollSchedule(2000, true, expected), 20_000);
    const atMost = 20_000 / LATE_POLL_CAP_MS + 15;
    assert.ok(
      times.length < atMost,
      `${times.length} polls for a task 20 times longer than expected`,
    );
  });
});

describe('TaskDurations', () => {
  it('should learn a moving mean and deviation per kind', () => {
    const durations = new TaskDurations();
    assert.equal(durations.estimate('a'), undefined);

    durations.record('a', 1000);
    durations.record('a', 1100);
    durations.record('b', 5000);

    const a = durations.estimate('a');
    assert.ok(a && a.meanMs > 1000 && a.meanMs < 1100 && a.samples === 2);
    assert.equal(durations.estimate('b')?.meanMs, 5000);
  });
});
