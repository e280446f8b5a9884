import assert from 'node:assert/strict';

import { send, sendClone } from '../support/http-client';
import { type Stack, startStack } from '../support/stack';
import { until } from '../support/until';

/** The value of one series in Prometheus text, e.g. `name{label="x"}`; undefined when absent. */
function readSeries(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const EXITSTATUS: Record<number, string> = {
  202: 'WARNINGS: 2',
  203: 'clone failed: command lvcreate failed',
};

describe('/_clone-proxy/metrics', () => {
  let stack: Stack;

  beforeEach(async () => {
    stack = await startStack({
      pve: { taskDurationMs: 150, taskExitStatus: (clone) => EXITSTATUS[clone.newid] ?? 'OK' },
      proxy: { queueSize: 1 },
    });
  });

  afterEach(() => stack.close());

  const scrape = async () => {
    const reply = await send(stack.proxyUrl, { path: '/_clone-proxy/metrics' });
    assert.equal(reply.status, 200);
    assert.match(String(reply.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    return reply.body.toString('utf8');
  };

  it('should show the queue while it runs and count each clone by outcome afterwards', async () => {
    const first = sendClone(stack.proxyUrl, 'newid=201&full=1');
    await until(() => stack.pve.record.runningCloneTasks() === 1, 'the first task runs');
    const second = sendClone(stack.proxyUrl, 'newid=202&full=1');
    await until(
      () => stack.proxy.proxy.middleware.lanes.list()[0].waitingCount === 1,
      'the second waits',
    );

    const busy = await scrape();
    assert.equal(readSeries(busy, 'pve_clone_proxy_queue_depth{lane="global"}'), 1);
    assert.equal(readSeries(busy, 'pve_clone_proxy_clones_in_flight{lane="global"}'), 1);

    const full = await sendClone(stack.proxyUrl, 'newid=209&full=1');
    assert.equal(full.status, 503);
    assert.equal((await first).status, 200);
    assert.equal((await second).status, 200);
    assert.equal((await sendClone(stack.proxyUrl, 'newid=203&full=1')).status, 200);
    // PVE refuses a clone of a guest that does not exist; no task starts.
    assert.equal((await sendClone(stack.proxyUrl, 'newid=204', { vmid: 4242 })).status, 500);

    const text = await scrape();
    const expected: Record<string, number> = {
      'pve_clone_proxy_queue_depth{lane="global"}': 0,
      'pve_clone_proxy_clones_in_flight{lane="global"}': 0,
      'pve_clone_proxy_clones_queued_total{lane="global"}': 4,
      'pve_clone_proxy_clones_finished_total{outcome="ok"}': 1,
      'pve_clone_proxy_clones_finished_total{outcome="warnings"}': 1,
      'pve_clone_proxy_clones_finished_total{outcome="failed"}': 1,
      'pve_clone_proxy_clones_finished_total{outcome="refused"}': 1,
      'pve_clone_proxy_clones_finished_total{outcome="upstream-error"}': 0,
      'pve_clone_proxy_rejections_total{reason="queue-full"}': 1,
      'pve_clone_proxy_rejections_total{reason="queue-timeout"}': 0,
      'pve_clone_proxy_clone_wait_seconds_count{lane="global"}': 4,
      'pve_clone_proxy_clone_task_seconds_count{lane="global"}': 3,
      'pve_clone_proxy_poll_errors_total{kind="transient"}': 0,
      pve_clone_proxy_joined_total: 0,
    };
    for (const [series, value] of Object.entries(expected)) {
      assert.equal(readSeries(text, series), value, series);
    }

    // Three tasks of 150 ms each: their summed duration says the slot was held for each.
    const taskSum = readSeries(text, 'pve_clone_proxy_clone_task_seconds_sum{lane="global"}') ?? 0;
    assert.ok(taskSum >= 0.45 && taskSum < 5, `task seconds sum ${taskSum}`);
    const waitSum = readSeries(text, 'pve_clone_proxy_clone_wait_seconds_sum{lane="global"}') ?? 0;
    assert.ok(waitSum >= 0.05, `the second clone waited for the first (${waitSum} s)`);
    assert.match(text, /^process_cpu_user_seconds_total \d/m);
    assert.match(text, /^# TYPE pve_clone_proxy_clone_task_seconds histogram$/m);
  });

  it('should keep its own series per proxy', async () => {
    const other = await startStack();
    try {
      await sendClone(stack.proxyUrl, 'newid=201&full=1');
      const reply = await send(other.proxyUrl, { path: '/_clone-proxy/metrics' });
      const text = reply.body.toString('utf8');
      assert.equal(readSeries(text, 'pve_clone_proxy_clones_finished_total{outcome="ok"}'), 0);
      assert.equal(
        readSeries(await scrape(), 'pve_clone_proxy_clones_finished_total{outcome="ok"}'),
        1,
      );
    } finally {
      await other.close();
    }
  });
});
