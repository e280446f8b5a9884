import assert from 'node:assert/strict';

import { sendClone } from '../support/http-client';
import { type Stack, startStack } from '../support/stack';

/** Whether any two of the double's clone tasks on these nodes ran at the same time. */
function overlapped(stack: Stack, nodes: string[]): boolean {
  const tasks = stack.pve.record.cloneTasks.filter((task) => nodes.includes(task.node));
  return tasks.some((a) =>
    tasks.some(
      (b) =>
        a !== b && a.startedAt < (b.endedAt ?? Infinity) && b.startedAt < (a.endedAt ?? Infinity),
    ),
  );
}

describe('CLONE_PROXY_LANES=node', () => {
  let stack: Stack;

  beforeEach(async () => {
    stack = await startStack({
      pve: {
        nodes: ['pve1', 'pve2'],
        taskDurationMs: 300,
        guests: [
          { vmid: 9000, node: 'pve1', template: true },
          { vmid: 9100, node: 'pve2', template: true },
        ],
      },
      proxy: { lanes: 'node' },
    });
  });

  afterEach(() => stack.close());

  /** The lanes clones were queued in; lanes themselves are forgotten once idle. */
  const laneNames = () => {
    const names = new Set<string>();
    stack.proxy.proxy.middleware.events.on('queued', (_job, lane) => names.add(lane.name));
    return names;
  };

  it('should run clones on two nodes side by side, but never two on one node', async () => {
    const names = laneNames();
    const replies = await Promise.all([
      sendClone(stack.proxyUrl, 'newid=201&full=1', { node: 'pve1', vmid: 9000 }),
      sendClone(stack.proxyUrl, 'newid=202&full=1', { node: 'pve1', vmid: 9000 }),
      sendClone(stack.proxyUrl, 'newid=301&full=1', { node: 'pve2', vmid: 9100 }),
      sendClone(stack.proxyUrl, 'newid=302&full=1', { node: 'pve2', vmid: 9100 }),
    ]);

    for (const reply of replies) assert.equal(reply.status, 200, reply.body.toString());
    assert.equal(stack.pve.record.maxConcurrentCloneTasks, 2);
    assert.equal(overlapped(stack, ['pve1']), false, 'two clones ran at once on pve1');
    assert.equal(overlapped(stack, ['pve2']), false, 'two clones ran at once on pve2');
    assert.ok(overlapped(stack, ['pve1', 'pve2']), 'the nodes did not run side by side');

    assert.deepEqual([...names].sort(), ['node/pve1', 'node/pve2']);
    assert.deepEqual(stack.proxy.proxy.middleware.lanes.list(), [], 'idle lanes were kept');
  });

  it('should put a clone addressed to localhost in the lane of the node PVE answers as', async () => {
    const names = laneNames();
    const replies = await Promise.all([
      sendClone(stack.proxyUrl, 'newid=201&full=1', { node: 'localhost', vmid: 9000 }),
      sendClone(stack.proxyUrl, 'newid=202&full=1', { node: 'pve1', vmid: 9000 }),
    ]);

    for (const reply of replies) assert.equal(reply.status, 200, reply.body.toString());
    assert.equal(stack.pve.record.maxConcurrentCloneTasks, 1);
    assert.deepEqual([...names], ['node/pve1']);
  });
});

describe('CLONE_PROXY_LANES=source', () => {
  let stack: Stack;

  afterEach(() => stack.close());

  it('should run clones of two templates side by side, one at a time per template', async () => {
    stack = await startStack({
      pve: { taskDurationMs: 300, storageLockMs: 10 },
      proxy: { lanes: 'source' },
    });
    const replies = await Promise.all([
      sendClone(stack.proxyUrl, 'newid=201', { vmid: 9000 }),
      sendClone(stack.proxyUrl, 'newid=202', { vmid: 9000 }),
      sendClone(stack.proxyUrl, 'newid=203', { vmid: 9002 }),
    ]);

    for (const reply of replies) assert.equal(reply.status, 200, reply.body.toString());
    assert.equal(stack.pve.record.maxConcurrentCloneTasks, 2);
    const of9000 = stack.pve.record.cloneTasks.filter((task) => task.vmid === 9000);
    assert.ok(
      of9000[1].startedAt >= (of9000[0].endedAt ?? Infinity),
      'two clones of 9000 overlapped',
    );
  });
});
