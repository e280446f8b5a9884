import { formatDuration } from './duration';
import { formatListenAddress } from './listen-address';
import { maskUrlPassword } from './proxy-config';
import type { ServerConfig } from './server-config';
import { SERVER_VARIABLES } from './server-config';

const NOTES: Record<string, string> = {
  CLONE_PROXY_TARGET: ' ($PVE_API_URL if set)',
  CLONE_PROXY_LOG_FORMAT: ' (json, or pretty when stderr is a terminal)',
  CLONE_PROXY_ADMIN_LISTEN: ' (admin endpoints on the API listener)',
  CLONE_PROXY_REDIS_URL: ' (lanes shared by no other proxy)',
};

/** One line per variable with its default, for `--help`. */
export function describeVariables(): string {
  return Object.entries(SERVER_VARIABLES)
    .map(([name, spec]) => {
      const fallback = (spec as { default?: unknown }).default;
      const shown =
        fallback === undefined
          ? 'unset'
          : typeof fallback === 'object'
            ? formatListenAddress(fallback as never)
            : String(fallback);
      const note = NOTES[name] ?? '';
      return `  ${name.padEnd(30)} [${shown}]${note}`;
    })
    .join('\n');
}

/** The effective configuration as `NAME=value` lines; PEM contents are never printed. */
export function describeServerConfig(config: Readonly<ServerConfig>): string {
  const lines: [string, string][] = [
    ['CLONE_PROXY_LISTEN', formatListenAddress(config.listen)],
    ['CLONE_PROXY_TARGET', config.target],
    ['CLONE_PROXY_POLL_INTERVAL', formatDuration(config.pollIntervalMs)],
    ['CLONE_PROXY_ADAPTIVE_POLLING', String(config.adaptivePolling)],
    ['CLONE_PROXY_POLL_TIMEOUT', formatDuration(config.pollTimeoutMs)],
    ['CLONE_PROXY_REQUEST_TIMEOUT', formatDuration(config.requestTimeoutMs)],
    ['CLONE_PROXY_QUEUE_SIZE', String(config.queueSize)],
    [
      'CLONE_PROXY_QUEUE_TIMEOUT',
      config.queueTimeoutMs ? formatDuration(config.queueTimeoutMs) : 'off',
    ],
    ['CLONE_PROXY_RESPOND', config.respond],
    ['CLONE_PROXY_LANES', config.lanes],
    ['CLONE_PROXY_MATCH', config.match.join(',')],
    ['CLONE_PROXY_NEXTID', config.nextid],
    ['CLONE_PROXY_NEXTID_HOLD', formatDuration(config.nextidHoldMs)],
    [
      'CLONE_PROXY_REDIS_URL',
      config.redisUrl ? maskUrlPassword(config.redisUrl) : 'unset (this process only)',
    ],
    ['CLONE_PROXY_REDIS_FAILURE', config.redisFailure],
    ['CLONE_PROXY_REDIS_LEASE', formatDuration(config.redisLeaseMs)],
    ['CLONE_PROXY_SKIP_TLS_VERIFY', String(config.skipTlsVerify)],
    ['CLONE_PROXY_CA_FILE', config.ca ? '(set, PEM not shown)' : 'unset'],
    ['CLONE_PROXY_TLS_FINGERPRINT', config.tlsFingerprint ?? 'unset'],
    ['CLONE_PROXY_TLS_CERT', config.tls?.certFile ?? 'unset'],
    ['CLONE_PROXY_TLS_KEY', config.tls ? `${config.tls.keyFile} (contents masked)` : 'unset'],
    ['CLONE_PROXY_SHUTDOWN_TIMEOUT', formatDuration(config.shutdownTimeoutMs)],
    ['CLONE_PROXY_LOG_LEVEL', config.logLevel],
    ['CLONE_PROXY_LOG_FORMAT', config.logFormat ?? 'unset (json, or pretty on a terminal)'],
    [
      'CLONE_PROXY_ADMIN_LISTEN',
      config.adminListen ? formatListenAddress(config.adminListen) : 'unset (on the API listener)',
    ],
    ['CLONE_PROXY_WORKERS', String(config.workers)],
  ];
  return lines.map(([name, value]) => `${name}=${value}`).join('\n');
}
