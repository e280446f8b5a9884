import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { createFakePve, type FakePve } from '../../../lib/fake-pve';
import { send, sendClone, TOKEN } from '../../support/http-client';
import { type Stack, startStack } from '../../support/stack';
import { echoOverWebsocket } from '../../support/websocket';
import type { FrontProcess } from './front-process';

/** Where a front recipe sends its traffic during a spec. */
export interface Upstreams {
  /** The proxy, e.g. `http://127.0.0.1:40123`. */
  proxyUrl: string;
  /** PVE as the front reaches it directly (layout (a) only), over TLS. */
  pveUrl: string;
}

export interface FrontUnderTest {
  /** Why the front cannot run here; its tests are then skipped with this reason. */
  missing: string | undefined;
  /**
   * Whether the front passes PVE's reason phrase on. PVE puts its error message there (the
   * only place before libpve-http-server-perl 5.2.0), and clients such as proxmoxer show it.
   */
  keepsReasonPhrase: boolean;
  start(upstreams: Upstreams): Promise<FrontProcess>;
}

/** The test CA (self-signed, for 127.0.0.1 and localhost) that stands in for PVE's own. */
export const TEST_CA_FILE = join(__dirname, '..', '..', 'fixtures', 'loopback-cert.pem');
const TEST_KEY_FILE = join(__dirname, '..', '..', 'fixtures', 'loopback-key.pem');

const TASK_MS = 100;
const WEBSOCKET_PATH = '/api2/json/nodes/pve1/lxc/100/vncwebsocket?port=5900&vncticket=x';

let nextNewid = 500;
const newid = () => nextNewid++;

/** The running pieces of one suite; `front` is reached by the client, the rest by the front. */
export interface Deployment {
  stack: Stack;
  front: FrontProcess;
  /** The PVE double the front reaches without the proxy (layout (a)). */
  direct?: FakePve;
}

/**
 * Start the proxy with its PVE double, then the front; in layout (a) also a second double on
 * TLS for the traffic the front sends straight to PVE. Two doubles make the route of every
 * request visible: a request recorded by `stack.pve` went through the proxy.
 */
function useDeployment(recipe: FrontUnderTest, layout: 'a' | 'b'): () => Deployment {
  let deployment: Deployment | undefined;
  let stack: Stack | undefined;
  let direct: FakePve | undefined;
  let started: FrontProcess | undefined;

  before(async function () {
    if (recipe.missing) return;
    this.timeout(20_000);
    stack = await startStack({ pve: { taskDurationMs: TASK_MS } });
    let pveUrl = '';
    if (layout === 'a') {
      const tls = { cert: readFileSync(TEST_CA_FILE), key: readFileSync(TEST_KEY_FILE) };
      direct = createFakePve({ taskDurationMs: TASK_MS, authDelayMs: 0, tls });
      pveUrl = await direct.listen(0, '127.0.0.1');
    }
    started = await recipe.start({ proxyUrl: stack.proxyUrl, pveUrl });
    deployment = { stack, front: started, direct };
  });

  after(async () => {
    await started?.stop();
    await direct?.close();
    await stack?.close();
  });

  beforeEach(function () {
    if (recipe.missing && this.currentTest) {
      this.currentTest.title += ` (skipped: ${recipe.missing})`;
      this.skip();
    }
    deployment?.stack.pve.record.reset();
    deployment?.direct?.record.reset();
  });

  return () => {
    if (!deployment) throw new Error('deployment did not start');
    return deployment;
  };
}

const postUrls = (pve: FakePve) =>
  pve.record.requests.filter((request) => request.method === 'POST').map((request) => request.url);

function assertHeldByProxy(replies: Awaited<ReturnType<typeof sendClone>>[], output: string) {
  for (const reply of replies) {
    assert.equal(reply.status, 200, `${reply.status} ${reply.reason}\n${output}`);
    assert.equal(reply.headers['x-clone-proxy-task'], 'stopped');
    const body = reply.json();
    assert.match(body.data, /^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:vzclone:9000:/);
  }
}

/** Layout (b): the front sends every request to the proxy. */
export function describeAllTraffic(title: string, recipe: FrontUnderTest): void {
  describe(title, () => {
    const deployment = useDeployment(recipe, 'b');

    it('should hold 5 concurrent clones to one PVE task at a time', async () => {
      const { stack, front } = deployment();
      const replies = await Promise.all(
        [1, 2, 3, 4, 5].map(() => sendClone(front.url, `newid=${newid()}&full=1`)),
      );

      assertHeldByProxy(replies, front.output());
      assert.equal(stack.pve.record.cloneTasks.length, 5);
      assert.equal(stack.pve.record.maxConcurrentCloneTasks, 1);
    });

    it('should pass a GET through with its path and query unchanged', async () => {
      const { stack, front } = deployment();
      const path = '/api2/json/version?_dc=1712345678';
      const reply = await send(front.url, { path, headers: { Authorization: TOKEN } });

      assert.equal(reply.status, 200);
      assert.equal(typeof reply.json().data.release, 'string');
      assert.deepEqual(
        stack.pve.record.requests.map((request) => request.url),
        [path],
      );
    });

    const reasonTitle = recipe.keepsReasonPhrase
      ? "should keep PVE's reason phrase"
      : "should replace PVE's reason phrase with the standard one (the message stays in the body)";
    it(reasonTitle, async () => {
      const { front } = deployment();
      const path = '/api2/json/nodes/pve1/lxc/4242/config';
      const reply = await send(front.url, { path, headers: { Authorization: TOKEN } });

      const message = "Configuration file 'nodes/pve1/lxc/4242.conf' does not exist";
      assert.equal(reply.status, 500);
      assert.equal(reply.reason, recipe.keepsReasonPhrase ? message : 'Internal Server Error');
      assert.match(reply.json().message, new RegExp(`^${message}`));
    });

    it('should tunnel a websocket and echo', async () => {
      const { front } = deployment();
      const { echoed, status } = await echoOverWebsocket(front.url, WEBSOCKET_PATH, 'hello pve');
      assert.equal(status, 101);
      assert.equal(echoed, 'hello pve');
    });

    it('should hand clone paths with // and a trailing slash to PVE as sent', async () => {
      const { stack, front } = deployment();
      const paths = [
        '/api2/json//nodes/pve1/lxc/9000/clone/',
        '/api2/json/nodes//pve1/lxc/9000//%63lone?full=1',
      ];
      for (const path of paths) {
        assertHeldByProxy([await sendClone(front.url, `newid=${newid()}`, { path })], '');
      }
      assert.deepEqual(postUrls(stack.pve), paths);
    });
  });
}

/** Layout (a): the front sends clone POSTs to the proxy and everything else straight to PVE. */
export function describeClonesOnly(title: string, recipe: FrontUnderTest): void {
  describe(title, () => {
    const deployment = useDeployment(recipe, 'a');
    const direct = () => deployment().direct as FakePve;

    it('should queue every spelling of an LXC clone through the proxy', async () => {
      const { stack, front } = deployment();
      const paths = [
        '/api2/json/nodes/pve1/lxc/9000/clone',
        '/api2/extjs/nodes/pve1/lxc/9000/clone',
        '/api2/json/nodes/pve1/lxc/9000/clone/',
        '/api2/json//nodes//pve1/lxc/9000//clone',
        '/api2/json/nodes/pve1/lxc/9000/%63lone',
      ];
      const replies = await Promise.all(
        paths.map((path) => sendClone(front.url, `newid=${newid()}&full=1`, { path })),
      );

      for (const reply of replies) {
        assert.equal(reply.status, 200, `${reply.status} ${reply.reason}\n${front.output()}`);
        assert.equal(reply.headers['x-clone-proxy-task'], 'stopped');
      }
      assert.equal(replies[1].json().success, 1);
      assert.equal(stack.pve.record.maxConcurrentCloneTasks, 1);
      assert.equal(stack.pve.record.cloneTasks.length, 5);
      assert.deepEqual(postUrls(stack.pve).sort(), [...paths].sort());
      assert.deepEqual(direct().record.requests, []);
    });

    it('should send a GET on the clone path straight to PVE, unqueued', async () => {
      const { stack, front } = deployment();
      const path = '/api2/json/nodes/pve1/lxc/9000/clone';
      const reply = await send(front.url, { path, headers: { Authorization: TOKEN } });

      assert.equal(reply.status, 501);
      assert.match(reply.json().message, /^Method 'GET \/nodes\/pve1\/lxc\/9000\/clone' not impl/);
      assert.equal(reply.headers['x-clone-proxy-task'], undefined);
      assert.deepEqual(
        direct().record.requests.map((request) => `${request.method} ${request.url}`),
        [`GET ${path}`],
      );
      assert.deepEqual(stack.pve.record.requests, []);
    });

    it('should send a QEMU clone straight to PVE', async () => {
      const { stack, front } = deployment();
      const path = '/api2/json/nodes/pve1/qemu/9001/clone';
      const reply = await sendClone(front.url, `newid=${newid()}`, { path });

      assert.equal(reply.status, 200, `${reply.status} ${reply.reason}`);
      assert.equal(reply.headers['x-clone-proxy-task'], undefined);
      assert.deepEqual(postUrls(direct()), [path]);
      assert.deepEqual(stack.pve.record.requests, []);
    });

    it('should pass a GET to PVE over verified TLS with its path and query unchanged', async () => {
      const { stack, front } = deployment();
      const path = '/api2/json/version?_dc=1712345678';
      const reply = await send(front.url, { path, headers: { Authorization: TOKEN } });

      assert.equal(reply.status, 200, `${reply.status} ${reply.reason}\n${front.output()}`);
      assert.equal(typeof reply.json().data.release, 'string');
      assert.deepEqual(
        direct().record.requests.map((request) => request.url),
        [path],
      );
      assert.deepEqual(stack.pve.record.requests, []);
    });

    it('should tunnel a websocket to PVE and echo', async () => {
      const { front } = deployment();
      const { echoed, status } = await echoOverWebsocket(front.url, WEBSOCKET_PATH, 'hello pve');
      assert.equal(status, 101);
      assert.equal(echoed, 'hello pve');
      assert.equal(direct().record.requests.length, 1);
    });
  });
}
