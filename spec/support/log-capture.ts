import { Writable } from 'node:stream';

import { createLogger, format, type Logform, transports } from 'winston';

import type { Logger } from '../../lib/observe/logger';

export type LogLine = Record<string, unknown>;

export interface LogCapture {
  logger: Logger;
  /** Everything written, as the JSON text a log shipper would see. */
  output(): string;
  lines(): LogLine[];
}

/**
 * A winston logger that keeps every line in memory as JSON, at `level` (debug unless told),
 * with `before` applied ahead of the timestamp and JSON formats.
 */
export function createLogCapture(
  options: { level?: string; before?: Logform.Format } = {},
): LogCapture {
  const text: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text.push(chunk.toString());
      done();
    },
  });
  const formats = [format.timestamp(), format.json()];
  const logger = createLogger({
    level: options.level ?? 'debug',
    format: format.combine(...(options.before ? [options.before, ...formats] : formats)),
    transports: [new transports.Stream({ stream })],
  });

  const output = () => text.join('');
  const lines = () =>
    output()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as LogLine);
  return { logger, output, lines };
}
