import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

/** Wait, bounded to about three seconds, until `check` holds. */
export async function until(check: () => boolean, what: string): Promise<void> {
  for (let tries = 0; tries < 300 && !check(); tries += 1) await sleep(10);
  assert.ok(check(), `timed out waiting until ${what}`);
}
