import type { IncomingMessage } from 'node:http';

import type { FakeRecorder, FakeRequestRecord, FakeTaskRecord } from './types';

/** The recorder's public face plus the hooks the double itself calls. */
export interface Recorder extends FakeRecorder {
  request(req: IncomingMessage): FakeRequestRecord;
  cloneTaskStarted(task: FakeTaskRecord): void;
  cloneTaskEnded(task: FakeTaskRecord): void;
  statusPolled(): void;
}

export function createRecorder(): Recorder {
  let running = 0;
  let maxRunning = 0;
  let polls = 0;

  const recorder: Recorder = {
    requests: [],
    cloneTasks: [],

    get maxConcurrentCloneTasks() {
      return maxRunning;
    },
    get statusPolls() {
      return polls;
    },
    runningCloneTasks: () => running,

    reset() {
      recorder.requests.length = 0;
      recorder.cloneTasks.length = 0;
      maxRunning = running;
      polls = 0;
    },

    request(req) {
      const record: FakeRequestRecord = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body: Buffer.alloc(0),
        receivedAt: Date.now(),
      };
      recorder.requests.push(record);
      return record;
    },

    cloneTaskStarted(task) {
      recorder.cloneTasks.push(task);
      running++;
      maxRunning = Math.max(maxRunning, running);
    },

    cloneTaskEnded() {
      running--;
    },

    statusPolled() {
      polls++;
    },
  };
  return recorder;
}
