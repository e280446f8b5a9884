import type { LoadResult } from '../children/load-generator';

/** Constants and shapes shared by the passthrough benchmark and its report. */
export const CONNECTIONS = 32;
/** `getconf CLK_TCK` is 100 on Linux. */
export const CLOCK_TICK_MS = 10;
export const WARMUP_SECONDS = 0.5;
/** Let a server finish what the last run left queued before the next run starts. */
export const SETTLE_MS = 300;
export const PUT_BODY = `description=${'x'.repeat(64 * 1024 - 'description='.length)}`;
export const WORKLOADS = [
  { name: 'GET /api2/json/version', method: 'GET', path: '/api2/json/version' },
  { name: 'PUT 64 KiB config', method: 'PUT', path: '/api2/json/nodes/pve1/lxc/100/config' },
] as const;
export const GOAL_ADDED_P99_MS = 2;
export const WORKERS = 2;
export const WORKERS_NAME = `pve-clone-proxy, ${WORKERS} workers`;
/** The calibration row: what Node.js itself costs as a reverse proxy on this machine. */
export const PIPE_NAME = 'bare Node.js pipe';

export type Workload = (typeof WORKLOADS)[number];

export interface Target {
  name: string;
  url: string;
  /** A single-process server whose CPU time per request is read from /proc. */
  pid?: number;
}

/** A load result plus the CPU the target spent per answered request, when known. */
export interface Measured extends LoadResult {
  cpuUsPerRequest: number;
}

export interface Plan {
  seconds: number;
  pacedSeconds: number;
  /** A first, longer warm-up per target: JIT, and modules loaded on first use. */
  firstWarmupSeconds: number;
  getRounds: number;
  putRounds: number;
  pacedRounds: number;
  profileSeconds: number;
}
