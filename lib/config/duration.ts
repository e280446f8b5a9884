const DURATION = /^(\d+)(ms|s|m|h)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parse `500ms`, `2s`, `15m` or `1h` into milliseconds; anything else gives undefined. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;

  const ms = Number(match[1]) * UNIT_MS[match[2]];
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** The shortest spelling of a duration, for messages and `--check-config`. */
export function formatDuration(ms: number): string {
  // A minute is written as 60s, as the defaults are; larger whole minutes and hours as such.
  for (const unit of ['h', 'm', 's']) {
    const whole = ms !== 0 && ms % UNIT_MS[unit] === 0;
    if (whole && (unit !== 'm' || ms > UNIT_MS.m)) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}
