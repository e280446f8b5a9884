/**
 * `npm run fake-pve`: the PVE double on its own, for trying the server or a gateway by hand.
 * FAKE_PVE_LISTEN (default 127.0.0.1:8006) and FAKE_PVE_TASK_MS (default 5000) set it up.
 */
import { parseListenAddress } from '../lib/config/listen-address';
import { createFakePve } from '../lib/fake-pve';

async function main(): Promise<void> {
  // As with the proxy's own variables, an empty one counts as unset.
  const address = parseListenAddress(process.env.FAKE_PVE_LISTEN || '127.0.0.1:8006');
  if (!address)
    throw new RangeError('FAKE_PVE_LISTEN must be host:port, for example 127.0.0.1:8006');
  const taskDurationMs = Number(process.env.FAKE_PVE_TASK_MS || 5000);
  if (!Number.isSafeInteger(taskDurationMs) || taskDurationMs < 0) {
    throw new RangeError('FAKE_PVE_TASK_MS must be milliseconds, for example 5000');
  }

  const pve = createFakePve({ taskDurationMs, authDelayMs: 0 });
  const url = await pve.listen(address.port, address.host);
  process.stdout.write(
    `PVE double at ${url} (node pve1, templates CT 9000 and 9002, clone tasks ${taskDurationMs} ms)\n` +
      "token: 'Authorization: PVEAPIToken=root@pam!test=00000000-0000-0000-0000-000000000000'\n" +
      'password login: root@pam / secret\n',
  );

  const stop = () => pve.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`fake-pve: ${(error as Error).message}\n`);
  process.exit(2);
});
