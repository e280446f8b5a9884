import type { Dispatcher } from 'undici';

import type { ProxyConfig } from '../config/proxy-config';
import type { Logger } from '../observe/logger';
import type { CloneEvents } from './clone-events';
import type { LocalNode } from './local-node';
import type { TaskDurations } from './task-durations';

/** What the clone part needs from outside: settings, the upstream dispatcher, a logger, and where to report what happens. */
export interface CloneContext {
  config: Readonly<ProxyConfig>;
  upstream: Dispatcher;
  logger: Logger;
  events: CloneEvents;
  /** Learned task durations, for adaptive polling. */
  durations: TaskDurations;
  /** Which node `localhost` means, once known. */
  localNode: LocalNode;
}
