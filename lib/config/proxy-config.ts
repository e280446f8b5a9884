import { ProxyError } from '../errors';
import { formatDuration, parseDuration } from './duration';

/** How clones are split into lanes that each run one clone at a time (CLONE_PROXY_LANES). */
export type LaneMode = 'global' | 'node' | 'source';

/** Which clone calls are queued (CLONE_PROXY_MATCH). */
export type GuestType = 'lxc' | 'qemu';

/** What happens to `GET /cluster/nextid` (CLONE_PROXY_NEXTID). */
export type NextidMode = 'pass' | 'reserve';

/** What a clone meets while the shared lane lock is out of reach (CLONE_PROXY_REDIS_FAILURE). */
export type RedisFailureMode = 'closed' | 'local';

/** How a clone's client is answered (CLONE_PROXY_RESPOND). */
export type RespondMode = 'task-end' | 'accepted';

/** The verified, frozen settings every part of the proxy receives. */
export interface ProxyConfig {
  /** PVE base URL without a trailing slash, e.g. `https://127.0.0.1:8006`. */
  target: string;
  /** Upper bound between task polls. */
  pollIntervalMs: number;
  /** Poll around the expected end of a task instead of at a fixed interval. */
  adaptivePolling: boolean;
  pollTimeoutMs: number;
  requestTimeoutMs: number;
  /** Clones that may wait; the one in flight is not counted. */
  queueSize: number;
  /** 0 means off. */
  queueTimeoutMs: number;
  respond: RespondMode;
  lanes: LaneMode;
  /** Guest types whose clones are queued; others pass through. */
  match: readonly GuestType[];
  nextid: NextidMode;
  nextidHoldMs: number;
  /** Redis shared by several proxies for lane locks and nextid holds; unset: this process only. */
  redisUrl?: string;
  redisFailure: RedisFailureMode;
  /** How long a lane lock outlives a proxy that stopped renewing it. */
  redisLeaseMs: number;
  skipTlsVerify: boolean;
  /** PEM bundle trusted for the PVE certificate, instead of Node's built-in roots. */
  ca?: string;
  /** SHA-256 fingerprint of the PVE certificate, `AA:BB:...` as PVE shows it. */
  tlsFingerprint?: string;
  shutdownTimeoutMs: number;
}

/** What a caller may pass: durations as milliseconds or as `2s`, everything but target optional. */
export interface ProxyOptions {
  target: string;
  pollInterval?: number | string;
  adaptivePolling?: boolean;
  pollTimeout?: number | string;
  requestTimeout?: number | string;
  queueSize?: number;
  queueTimeout?: number | string;
  respond?: RespondMode;
  lanes?: LaneMode;
  match?: readonly GuestType[] | string;
  nextid?: NextidMode;
  nextidHold?: number | string;
  redisUrl?: string;
  redisFailure?: RedisFailureMode;
  redisLease?: number | string;
  skipTlsVerify?: boolean;
  ca?: string;
  tlsFingerprint?: string;
  shutdownTimeout?: number | string;
}

export const DEFAULT_OPTIONS = {
  pollInterval: '2s',
  adaptivePolling: true,
  pollTimeout: '15m',
  requestTimeout: '30s',
  queueSize: 100,
  queueTimeout: 'off',
  respond: 'task-end',
  lanes: 'global',
  match: 'lxc',
  nextid: 'pass',
  nextidHold: '5m',
  redisFailure: 'closed',
  redisLease: '15s',
  skipTlsVerify: false,
  shutdownTimeout: '60s',
} as const;

const FINGERPRINT = /^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$/;

/**
 * Check options once, before any work, and fill in defaults. A bad value throws a
 * `CLONE_PROXY_CONFIG_INVALID` error naming the option, the value and a good example.
 *
 * @example
 * verifyProxyOptions({ target: 'https://pve1.example:8006', pollInterval: '1s' })
 */
export function verifyProxyOptions(
  options: ProxyOptions,
  otherNames: readonly string[] = [],
): Readonly<ProxyConfig> {
  verifyOptionNames(options, otherNames);
  const config: ProxyConfig = {
    target: verifyTarget(options.target),
    pollIntervalMs: verifyDuration('pollInterval', options.pollInterval, 1),
    adaptivePolling: verifyFlag(
      'adaptivePolling',
      options.adaptivePolling ?? DEFAULT_OPTIONS.adaptivePolling,
    ),
    pollTimeoutMs: verifyDuration('pollTimeout', options.pollTimeout, 1),
    requestTimeoutMs: verifyDuration('requestTimeout', options.requestTimeout, 1),
    queueSize: verifyCount('queueSize', options.queueSize ?? DEFAULT_OPTIONS.queueSize),
    queueTimeoutMs: verifyDuration('queueTimeout', options.queueTimeout, 0),
    respond: verifyRespond(options.respond ?? DEFAULT_OPTIONS.respond),
    lanes: verifyChoice('lanes', options.lanes ?? DEFAULT_OPTIONS.lanes, [
      'global',
      'node',
      'source',
    ]),
    match: verifyMatch(options.match ?? DEFAULT_OPTIONS.match),
    nextid: verifyChoice('nextid', options.nextid ?? DEFAULT_OPTIONS.nextid, ['pass', 'reserve']),
    nextidHoldMs: verifyDuration('nextidHold', options.nextidHold, 0),
    redisUrl: verifyRedisUrl(options.redisUrl),
    redisFailure: verifyChoice(
      'redisFailure',
      options.redisFailure ?? DEFAULT_OPTIONS.redisFailure,
      ['closed', 'local'],
    ),
    redisLeaseMs: verifyDuration('redisLease', options.redisLease, 100),
    skipTlsVerify: verifyFlag(
      'skipTlsVerify',
      options.skipTlsVerify ?? DEFAULT_OPTIONS.skipTlsVerify,
    ),
    ca: options.ca,
    tlsFingerprint: verifyFingerprint(options.tlsFingerprint),
    shutdownTimeoutMs: verifyDuration('shutdownTimeout', options.shutdownTimeout, 0),
  };

  return Object.freeze(config);
}

function invalid(name: string, value: unknown, example: string): ProxyError {
  return new ProxyError(
    'CLONE_PROXY_CONFIG_INVALID',
    `invalid ${name}: ${JSON.stringify(value)}; for example ${example}`,
  );
}

function verifyTarget(value: unknown): string {
  const example = "'https://127.0.0.1:8006'";
  if (typeof value !== 'string') throw invalid('target', value, example);

  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid('target', value, example);
  }
  const bare = url.pathname === '/' && !url.search && !url.hash && !url.username;
  if (!['http:', 'https:'].includes(url.protocol) || !bare) throw invalid('target', value, example);

  return `${url.protocol}//${url.host}`;
}

type DurationName = keyof typeof DEFAULT_OPTIONS &
  `${string}${'Interval' | 'Timeout' | 'Hold' | 'Lease'}`;

function verifyDuration(name: DurationName, value: unknown, minMs: number): number {
  const given = value ?? DEFAULT_OPTIONS[name];
  const ms = typeof given === 'number' ? given : given === 'off' ? 0 : parseDuration(String(given));
  if (ms === undefined || !Number.isSafeInteger(ms) || ms < minMs) {
    throw invalid(name, given, `'${formatDuration(Math.max(minMs, 2000))}' or 2000 (ms)`);
  }
  return ms;
}

function verifyCount(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalid(name, value, '100');
  }
  return value;
}

// Every option a caller may pass; a misspelt one must fail, not silently keep its default.
const OPTION_NAMES = new Set<string>([
  ...Object.keys(DEFAULT_OPTIONS),
  'target',
  'ca',
  'tlsFingerprint',
  'redisUrl',
]);

function verifyOptionNames(options: object, otherNames: readonly string[]): void {
  for (const name of Object.keys(options)) {
    if (OPTION_NAMES.has(name) || otherNames.includes(name)) continue;
    throw new ProxyError(
      'CLONE_PROXY_CONFIG_INVALID',
      `unknown option ${name}; known ones are ${[...OPTION_NAMES, ...otherNames].join(', ')}`,
    );
  }
}

function verifyFlag(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw invalid(name, value, 'true');
  return value;
}

function verifyChoice<T extends string>(name: string, value: unknown, choices: readonly T[]): T {
  if (!choices.includes(value as T))
    throw invalid(name, value, `'${choices[0]}' (one of ${choices.join(', ')})`);
  return value as T;
}

function verifyMatch(value: unknown): readonly GuestType[] {
  const list = typeof value === 'string' ? value.split(',').map((part) => part.trim()) : value;
  const valid =
    Array.isArray(list) &&
    list.length > 0 &&
    list.every((type) => type === 'lxc' || type === 'qemu');
  if (!valid) throw invalid('match', value, "'lxc' or 'lxc,qemu'");
  return Object.freeze([...new Set(list as GuestType[])]);
}

function verifyRespond(value: unknown): RespondMode {
  if (value !== 'task-end' && value !== 'accepted') throw invalid('respond', value, "'task-end'");
  return value;
}

function verifyRedisUrl(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const url = typeof value === 'string' && URL.canParse(value) ? new URL(value) : undefined;
  if (!url || !['redis:', 'rediss:'].includes(url.protocol)) {
    const shown = typeof value === 'string' ? maskUrlPassword(value) : value;
    throw invalid('redisUrl', shown, "'redis://127.0.0.1:6379'");
  }
  return value as string;
}

/** A URL as it may be shown: any password replaced by `***`. */
export function maskUrlPassword(value: string): string {
  if (!URL.canParse(value)) return value;
  const url = new URL(value);
  if (!url.password) return value;
  url.password = '***';
  return url.toString();
}

function verifyFingerprint(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!FINGERPRINT.test(value)) throw invalid('tlsFingerprint', value, "'AB:CD:...' (32 bytes)");
  return value.toUpperCase();
}

/** The options that verify back to `config`: for code that holds a config and builds a proxy. */
export function toProxyOptions(config: Readonly<ProxyConfig>): ProxyOptions {
  return {
    target: config.target,
    pollInterval: config.pollIntervalMs,
    adaptivePolling: config.adaptivePolling,
    pollTimeout: config.pollTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    queueSize: config.queueSize,
    queueTimeout: config.queueTimeoutMs,
    respond: config.respond,
    lanes: config.lanes,
    match: config.match,
    nextid: config.nextid,
    nextidHold: config.nextidHoldMs,
    redisUrl: config.redisUrl,
    redisFailure: config.redisFailure,
    redisLease: config.redisLeaseMs,
    skipTlsVerify: config.skipTlsVerify,
    ca: config.ca,
    tlsFingerprint: config.tlsFingerprint,
    shutdownTimeout: config.shutdownTimeoutMs,
  };
}
