import { createLogger as createWinstonLogger, format, type Logger, transports } from 'winston';

export type { Logger } from 'winston';

export type LogFormat = 'json' | 'pretty';

/**
 * A logger for the standalone server, writing to stderr: one JSON object per line (for
 * journald and log shippers), or `pretty` lines for a person at a terminal. Without a format,
 * pretty only when stderr is a terminal. The library itself only ever receives a logger.
 */
export function createLogger(options: { level?: string; format?: LogFormat } = {}): Logger {
  const terminal = Boolean(process.stderr.isTTY);
  const pretty = (options.format ?? (terminal ? 'pretty' : 'json')) === 'pretty';
  const lines = pretty
    ? format.combine(format.timestamp(), ...(terminal ? [format.colorize()] : []), format.simple())
    : format.combine(format.timestamp(), format.json());

  return createWinstonLogger({
    level: options.level ?? 'info',
    format: lines,
    transports: [new transports.Stream({ stream: process.stderr })],
  });
}

/** The default for library users who pass no logger: nothing is written anywhere. */
export function createSilentLogger(): Logger {
  return createWinstonLogger({
    silent: true,
    transports: [new transports.Console({ silent: true })],
  });
}
