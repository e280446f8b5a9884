import assert from 'node:assert/strict';

import { type Browser, chromium } from 'playwright-core';

import { sendClone } from '../support/http-client';
import { type Stack, startStack } from '../support/stack';
import { until } from '../support/until';

// Debian's chromium (.ci/system-packages); playwright's own browser downloads are never used.
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

describe('/_clone-proxy/status in a real browser', () => {
  let stack: Stack;
  let browser: Browser | undefined;

  beforeEach(async () => {
    // The first task runs long enough to outlast a slow browser start on a busy machine.
    stack = await startStack({
      pve: { taskDurationMs: (clone) => (clone.newid === 801 ? 4000 : 200) },
    });
  });

  afterEach(async () => {
    await browser?.close();
    browser = undefined;
    await stack.close();
  });

  it('should show the clone in flight and the one waiting, each with its newid and state', async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const running = sendClone(stack.proxyUrl, 'newid=801&full=1');
    await until(() => stack.pve.record.runningCloneTasks() === 1, 'the first task runs');
    const waiting = sendClone(stack.proxyUrl, 'newid=802&full=1');
    await until(
      () => stack.proxy.proxy.middleware.lanes.list()[0].waitingCount === 1,
      'the second waits',
    );

    // A fresh, temporary profile each time: playwright makes one and removes it on close.
    const page = await browser.newPage();
    const blocked: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(stack.proxyUrl)) blocked.push(request.url());
    });
    await page.goto(`${stack.proxyUrl}/_clone-proxy/status`);

    await page.waitForSelector('#queue tbody tr[data-state="waiting"]', { timeout: 3000 });
    const rows = await page.$$eval('#queue tbody tr', (trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')),
    );
    const [upid] = stack.pve.record.cloneTasks.map((task) => task.upid);
    assert.deepEqual(
      rows.map((cells) => [cells[1], cells[2], cells[3], cells[4], cells[6]]),
      [
        ['running', '801', 'pve1', '9000', upid],
        ['waiting', '802', 'pve1', '9000', ''],
      ],
    );
    assert.match((await page.textContent('#updated')) ?? '', /^updated /);
    assert.deepEqual(blocked, [], 'the page loaded something from elsewhere');

    assert.equal((await running).status, 200);
    assert.equal((await waiting).status, 200);
  });
});
