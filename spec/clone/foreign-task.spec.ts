import assert from 'node:assert/strict';

import { CloneEvents } from '../../lib/clone/clone-events';
import { CloneJob } from '../../lib/clone/clone-job';
import { createDispatchMark, parseDispatchMark } from '../../lib/clone/dispatch-mark';
import { waitForForeignTask } from '../../lib/clone/foreign-task';
import { LocalNode } from '../../lib/clone/local-node';
import { TaskDurations } from '../../lib/clone/task-durations';
import { verifyProxyOptions } from '../../lib/config/proxy-config';
import { createFakePve, type FakePve } from '../../lib/fake-pve';
import { createSilentLogger } from '../../lib/observe/logger';
import { parseCloneRoute } from '../../lib/pve/clone-route';
import { createUpstreamAgent } from '../../lib/upstream/upstream-agent';
import { sendClone, TOKEN } from '../support/http-client';
import { until } from '../support/until';

describe('taking a lane over from a proxy that died mid-clone', () => {
  let pve: FakePve;
  let target: string;

  beforeEach(async () => {
    pve = createFakePve({ taskDurationMs: 600, authDelayMs: 0 });
    target = await pve.listen(0, '127.0.0.1');
  });

  afterEach(() => pve.close());

  const createContext = () => {
    const config = verifyProxyOptions({ target, pollInterval: '20ms', requestTimeout: '1s' });
    return {
      config,
      upstream: createUpstreamAgent(config),
      logger: createSilentLogger(),
      events: new CloneEvents(),
      durations: new TaskDurations(),
      localNode: new LocalNode(),
    };
  };

  const createJob = () => {
    const route = parseCloneRoute('POST', '/api2/json/nodes/pve1/lxc/9000/clone');
    assert.ok(route);
    const request = {
      requestId: 'next',
      route,
      target: '/api2/json/nodes/pve1/lxc/9000/clone',
      headers: [],
      body: Buffer.from('newid=202'),
      params: { newid: '202' },
      credentials: ['Authorization', TOKEN],
      key: 'k',
    };
    return new CloneJob(request, { deliver: () => true });
  };

  it('should round-trip a dispatch mark', () => {
    const mark = createDispatchMark(
      { guestType: 'lxc', node: 'pve1', vmid: '9000' },
      1_700_000_000_000,
    );
    assert.deepEqual(parseDispatchMark(mark), {
      source: { guestType: 'lxc', node: 'pve1', vmid: '9000' },
      dispatchedAt: 1_700_000_000_000,
    });
    assert.equal(
      parseDispatchMark('UPID:pve1:00000001:00000002:00000003:vzclone:9000:root@pam:'),
      undefined,
    );
  });

  it('should find the task behind a dispatch mark and wait until it stopped', async () => {
    const context = createContext();
    const dispatchedAt = Date.now();
    const orphan = sendClone(target, 'newid=201&full=1');
    await until(() => pve.record.runningCloneTasks() === 1, 'the orphaned task runs');

    const mark = createDispatchMark({ guestType: 'lxc', node: 'pve1', vmid: '9000' }, dispatchedAt);
    await waitForForeignTask(createJob(), mark, context);

    const [task] = pve.record.cloneTasks;
    assert.ok(
      task.endedAt !== undefined && Date.now() >= task.endedAt,
      'went on before the task stopped',
    );
    await orphan;
    await context.upstream.close();
  });

  it('should wait for a recorded UPID to stop', async () => {
    const context = createContext();
    const upid = (await sendClone(target, 'newid=201&full=1')).json().data as string;

    await waitForForeignTask(createJob(), upid, context);

    const [task] = pve.record.cloneTasks;
    assert.ok(
      task.endedAt !== undefined && Date.now() >= task.endedAt,
      'went on before the task stopped',
    );
    await context.upstream.close();
  });
});
