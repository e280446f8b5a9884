import type { Auth } from './auth';
import type { Cluster } from './cluster';
import type { Faults } from './faults';
import type { ResolvedOptions } from './options';
import type { Recorder } from './recorder';
import type { StorageLocks } from './storage-locks';
import type { TaskRegistry } from './tasks';
import type { TimerSet } from './timers';

/** Everything one double holds; handlers receive it instead of reaching for globals. */
export interface FakeState {
  options: ResolvedOptions;
  cluster: Cluster;
  tasks: TaskRegistry;
  auth: Auth;
  recorder: Recorder;
  faults: Faults;
  timers: TimerSet;
  storageLocks: StorageLocks;
}
