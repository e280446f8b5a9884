export { type CloneProxy, createCloneProxy } from './app';
export {
  type CloneEventMap,
  CloneEvents,
  type CloneFinish,
  type RefusalReason,
} from './clone/clone-events';
export type { CloneJob, TaskOutcome } from './clone/clone-job';
export type { CloneLane } from './clone/clone-lane';
export type { CloneLanes } from './clone/clone-lanes';
export { mergeEnvFile } from './config/env-file';
export {
  DEFAULT_OPTIONS,
  type ProxyConfig,
  type ProxyOptions,
  type RedisFailureMode,
  type RespondMode,
  verifyProxyOptions,
} from './config/proxy-config';
export { loadServerConfig, SERVER_VARIABLES, type ServerConfig } from './config/server-config';
export { ERROR_STATUS, isProxyError, ProxyError, type ProxyErrorCode } from './errors';
export {
  type CloneProxyDependencies,
  type CloneProxyMiddleware,
  type CloneProxyMiddlewareOptions,
  createCloneProxyMiddleware,
} from './middleware';
export {
  ADMIN_PREFIX,
  type CloneProxyAdmin,
  type CloneProxyAdminOptions,
  createCloneProxyAdmin,
} from './observe/admin-router';
export type { CloneHistory, FinishedClone, QueueSnapshot } from './observe/clone-history';
export { type CloneMetricsOptions, createCloneMetrics } from './observe/clone-metrics';
export { type CloneOutcomeClass, classifyFinish } from './observe/clone-outcome';
export type { LaneSnapshot, ObservedProxy } from './observe/lane-view';
export { createLogger, createSilentLogger, type LogFormat, type Logger } from './observe/logger';
export type { PveHealth } from './observe/pve-health';
export { type CloneRoute, parseCloneRoute } from './pve/clone-route';
export { parseUpid, type Upid } from './pve/upid';
export { type CloneProxyServer, createCloneProxyServer } from './server';
