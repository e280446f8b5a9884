import { readFileSync } from 'node:fs';

import { bool, cleanEnv, makeValidator, str } from 'envalid';

import { ProxyError } from '../errors';
import { parseDuration } from './duration';
import { type ListenAddress, parseListenAddress } from './listen-address';
import {
  DEFAULT_OPTIONS,
  maskUrlPassword,
  type ProxyConfig,
  verifyProxyOptions,
} from './proxy-config';

/** Everything the standalone server needs: the proxy settings plus its own listener and logs. */
export interface ServerConfig extends ProxyConfig {
  listen: ListenAddress;
  /** PEM certificate and key to serve HTTPS instead of HTTP. */
  tls?: { cert: string; key: string; certFile: string; keyFile: string };
  logLevel: string;
  /** Unset: JSON lines, or pretty ones when stderr is a terminal. */
  logFormat?: 'json' | 'pretty';
  /** Serve the admin endpoints here instead of on the API listener. */
  adminListen?: ListenAddress;
  /** Processes serving the listener; the clone queue stays in one. */
  workers: number;
}

const duration = makeValidator<string>((input) => {
  if (parseDuration(input) === undefined) throw new Error('not a duration');
  return input;
});

// `off` disables a limit that is otherwise a duration (CLONE_PROXY_QUEUE_TIMEOUT).
const durationOrOff = makeValidator<string>((input) => {
  if (input === 'off') return '0ms';
  if (parseDuration(input) === undefined) throw new Error('not a duration');
  return input;
});

const listenAddress = makeValidator<ListenAddress>((input) => {
  const address = parseListenAddress(input);
  if (!address) throw new Error('not host:port');
  return address;
});

// A bare origin: PVE's API paths are the clients' own, so a path here would be ignored or wrong.
const targetUrl = makeValidator<string>((input) => {
  const url = URL.canParse(input) ? new URL(input) : undefined;
  if (!url || !['http:', 'https:'].includes(url.protocol)) throw new Error('not a URL');
  if (url.pathname !== '/' || url.search || url.hash || url.username)
    throw new Error('not an origin');
  return input;
});

const count = makeValidator<number>((input) => {
  if (!/^\d+$/.test(input.trim())) throw new Error('not a whole number');
  return Number(input);
});

const redisUrl = makeValidator<string>((input) => {
  const url = URL.canParse(input) ? new URL(input) : undefined;
  if (!url || !['redis:', 'rediss:'].includes(url.protocol)) throw new Error('not a Redis URL');
  return input;
});

const ENV_SPEC = {
  CLONE_PROXY_LISTEN: listenAddress({
    default: { host: '127.0.0.1', port: 8081 },
    example: '127.0.0.1:8081',
  }),
  CLONE_PROXY_TARGET: targetUrl({
    default: 'https://127.0.0.1:8006',
    example: 'https://127.0.0.1:8006',
  }),
  CLONE_PROXY_POLL_INTERVAL: duration({ default: DEFAULT_OPTIONS.pollInterval, example: '2s' }),
  CLONE_PROXY_ADAPTIVE_POLLING: bool({
    default: DEFAULT_OPTIONS.adaptivePolling,
    example: 'false',
  }),
  CLONE_PROXY_POLL_TIMEOUT: duration({ default: DEFAULT_OPTIONS.pollTimeout, example: '15m' }),
  CLONE_PROXY_REQUEST_TIMEOUT: duration({
    default: DEFAULT_OPTIONS.requestTimeout,
    example: '30s',
  }),
  CLONE_PROXY_QUEUE_SIZE: count({ default: DEFAULT_OPTIONS.queueSize, example: '100' }),
  CLONE_PROXY_QUEUE_TIMEOUT: durationOrOff({ default: 'off', example: '5m' }),
  CLONE_PROXY_RESPOND: str({
    choices: ['task-end', 'accepted'],
    default: 'task-end',
    example: 'accepted',
  }),
  CLONE_PROXY_LANES: str({
    choices: ['global', 'node', 'source'],
    default: 'global',
    example: 'node',
  }),
  CLONE_PROXY_MATCH: str({
    choices: ['lxc', 'lxc,qemu', 'qemu,lxc'],
    default: 'lxc',
    example: 'lxc,qemu',
  }),
  CLONE_PROXY_NEXTID: str({ choices: ['pass', 'reserve'], default: 'pass', example: 'reserve' }),
  CLONE_PROXY_NEXTID_HOLD: duration({ default: DEFAULT_OPTIONS.nextidHold, example: '5m' }),
  CLONE_PROXY_REDIS_URL: redisUrl({ default: undefined, example: 'redis://127.0.0.1:6379' }),
  CLONE_PROXY_REDIS_FAILURE: str({
    choices: ['closed', 'local'],
    default: 'closed',
    example: 'local',
  }),
  CLONE_PROXY_REDIS_LEASE: duration({ default: DEFAULT_OPTIONS.redisLease, example: '15s' }),
  CLONE_PROXY_SKIP_TLS_VERIFY: bool({ default: false, example: 'false' }),
  CLONE_PROXY_CA_FILE: str({ default: undefined, example: '/etc/pve/pve-root-ca.pem' }),
  CLONE_PROXY_TLS_FINGERPRINT: str({ default: undefined, example: 'AB:CD:...:EF' }),
  CLONE_PROXY_TLS_CERT: str({ default: undefined, example: '/etc/pve-clone-proxy/cert.pem' }),
  CLONE_PROXY_TLS_KEY: str({ default: undefined, example: '/etc/pve-clone-proxy/key.pem' }),
  CLONE_PROXY_SHUTDOWN_TIMEOUT: duration({
    default: DEFAULT_OPTIONS.shutdownTimeout,
    example: '60s',
  }),
  CLONE_PROXY_LOG_LEVEL: str({
    choices: ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'],
    default: 'info',
    example: 'debug',
  }),
  CLONE_PROXY_LOG_FORMAT: str({ choices: ['json', 'pretty'], default: undefined, example: 'json' }),
  CLONE_PROXY_ADMIN_LISTEN: listenAddress({ default: undefined, example: '127.0.0.1:9081' }),
  CLONE_PROXY_WORKERS: count({ default: 1, example: '2' }),
};

/** The variables the server reads, with their defaults and examples, for docs and `--help`. */
export const SERVER_VARIABLES = ENV_SPEC;

/**
 * Read and verify the server's settings from an environment (`process.env` in the server).
 * Empty variables count as unset; `CLONE_PROXY_TARGET` falls back to `PVE_API_URL`.
 * A bad value throws `CLONE_PROXY_CONFIG_INVALID` with one line: variable, value, example.
 */
export function loadServerConfig(env: NodeJS.ProcessEnv): Readonly<ServerConfig> {
  const given = withoutEmpty(env);
  verifyKnownVariables(given);
  if (given.CLONE_PROXY_TARGET === undefined && given.PVE_API_URL !== undefined) {
    given.CLONE_PROXY_TARGET = given.PVE_API_URL;
  }

  const clean = cleanEnv(given, ENV_SPEC, { reporter: ({ errors }) => reportFirst(errors, given) });
  const proxy = verifyProxyOptions({
    target: clean.CLONE_PROXY_TARGET,
    pollInterval: clean.CLONE_PROXY_POLL_INTERVAL,
    adaptivePolling: clean.CLONE_PROXY_ADAPTIVE_POLLING,
    pollTimeout: clean.CLONE_PROXY_POLL_TIMEOUT,
    requestTimeout: clean.CLONE_PROXY_REQUEST_TIMEOUT,
    queueSize: clean.CLONE_PROXY_QUEUE_SIZE,
    queueTimeout: clean.CLONE_PROXY_QUEUE_TIMEOUT,
    respond: clean.CLONE_PROXY_RESPOND as ProxyConfig['respond'],
    lanes: clean.CLONE_PROXY_LANES as ProxyConfig['lanes'],
    match: clean.CLONE_PROXY_MATCH,
    nextid: clean.CLONE_PROXY_NEXTID as ProxyConfig['nextid'],
    nextidHold: clean.CLONE_PROXY_NEXTID_HOLD,
    redisUrl: clean.CLONE_PROXY_REDIS_URL,
    redisFailure: clean.CLONE_PROXY_REDIS_FAILURE as ProxyConfig['redisFailure'],
    redisLease: clean.CLONE_PROXY_REDIS_LEASE,
    skipTlsVerify: clean.CLONE_PROXY_SKIP_TLS_VERIFY,
    ca: readPem('CLONE_PROXY_CA_FILE', clean.CLONE_PROXY_CA_FILE),
    tlsFingerprint: clean.CLONE_PROXY_TLS_FINGERPRINT,
    shutdownTimeout: clean.CLONE_PROXY_SHUTDOWN_TIMEOUT,
  });

  return Object.freeze({
    ...proxy,
    listen: clean.CLONE_PROXY_LISTEN,
    tls: readTlsPair(clean.CLONE_PROXY_TLS_CERT, clean.CLONE_PROXY_TLS_KEY),
    logLevel: clean.CLONE_PROXY_LOG_LEVEL,
    logFormat: clean.CLONE_PROXY_LOG_FORMAT as ServerConfig['logFormat'],
    adminListen: clean.CLONE_PROXY_ADMIN_LISTEN,
    workers: Math.max(1, clean.CLONE_PROXY_WORKERS),
  });
}

// A misspelt variable would otherwise be ignored without a word, its default silently used.
function verifyKnownVariables(env: Record<string, string>): void {
  for (const name of Object.keys(env)) {
    if (!name.startsWith('CLONE_PROXY_') || name in ENV_SPEC) continue;
    const known = Object.keys(ENV_SPEC).join(', ');
    throw new ProxyError(
      'CLONE_PROXY_CONFIG_INVALID',
      `unknown variable ${name}; known ones are ${known}`,
    );
  }
}

function withoutEmpty(env: NodeJS.ProcessEnv): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && value !== '') result[name] = value;
  }
  return result;
}

function reportFirst(errors: Partial<Record<string, Error>>, env: Record<string, string>): void {
  const names = Object.keys(errors) as (keyof typeof ENV_SPEC)[];
  if (names.length === 0) return;

  const name = names[0];
  const example = ENV_SPEC[name]?.example ?? '';
  throw new ProxyError(
    'CLONE_PROXY_CONFIG_INVALID',
    `${name}=${JSON.stringify(maskUrlPassword(env[name] ?? ''))} is not valid; for example ${name}=${example}`,
  );
}

const PEM_EXAMPLES: Record<string, string> = {
  CLONE_PROXY_CA_FILE: '/etc/pve/pve-root-ca.pem',
  CLONE_PROXY_TLS_CERT: '/etc/pve-clone-proxy/cert.pem',
  CLONE_PROXY_TLS_KEY: '/etc/pve-clone-proxy/key.pem',
};

function readPem(variable: string, file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ProxyError(
      'CLONE_PROXY_CONFIG_INVALID',
      `${variable}=${JSON.stringify(file)} cannot be read (${reason}); for example ${variable}=${PEM_EXAMPLES[variable]}`,
      { cause: error },
    );
  }
}

function readTlsPair(certFile?: string, keyFile?: string): ServerConfig['tls'] {
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) {
    const missing = certFile === undefined ? 'CLONE_PROXY_TLS_CERT' : 'CLONE_PROXY_TLS_KEY';
    throw new ProxyError(
      'CLONE_PROXY_CONFIG_INVALID',
      `${missing}="" is not valid: CLONE_PROXY_TLS_CERT and CLONE_PROXY_TLS_KEY go together; for example ${missing}=/etc/pve-clone-proxy/${missing.endsWith('CERT') ? 'cert' : 'key'}.pem`,
    );
  }
  const cert = readPem('CLONE_PROXY_TLS_CERT', certFile) ?? '';
  const key = readPem('CLONE_PROXY_TLS_KEY', keyFile) ?? '';
  return { cert, key, certFile, keyFile };
}
