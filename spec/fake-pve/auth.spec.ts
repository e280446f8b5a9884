import assert from 'node:assert/strict';

import { createFakePve, type FakePve } from '../../lib/fake-pve';
import { data, type Reply, send } from './helpers';

interface Login {
  username: string;
  ticket: string;
  CSRFPreventionToken: string;
  cap: Record<string, unknown>;
}

describe('fake PVE: tickets, CSRF tokens and API tokens', () => {
  let pve: FakePve;
  let url: string;

  beforeEach(async () => {
    pve = createFakePve({
      authDelayMs: 40,
      taskDurationMs: 20,
      tokens: {
        'root@pam!test': '00000000-0000-0000-0000-000000000000',
        'root@pam!eq': 'with=equals',
      },
    });
    url = await pve.listen();
  });

  afterEach(() => pve.close());

  async function login(body = 'username=root%40pam&password=secret'): Promise<Login> {
    const reply = await send(url, 'POST', '/api2/json/access/ticket', { body, token: false });
    assert.equal(reply.status, 200);
    return data(reply) as Login;
  }

  function assertUnauthorized(reply: Reply, reason: string): void {
    assert.equal(reply.status, 401);
    assert.equal(reply.reason, reason);
    assert.equal(reply.body, '');
    assert.equal(reply.headers.connection, 'close');
  }

  it('should issue a ticket, a CSRF token and a capability map', async () => {
    const session = await login();

    assert.equal(session.username, 'root@pam');
    assert.match(session.ticket, /^PVE:root@pam:[0-9A-F]{8}::[A-Za-z0-9+/]+=*$/);
    assert.match(session.CSRFPreventionToken, /^[0-9A-F]{8}:[A-Za-z0-9+/]{43}$/);
    assert.equal((session.cap.nodes as Record<string, number>)['Sys.Audit'], 1);
  });

  it('should take a JSON login with a separate realm', async () => {
    const reply = await send(url, 'POST', '/api2/json/access/ticket', {
      token: false,
      headers: { 'Content-Type': 'application/json' },
      body: '{"username":"root","password":"secret","realm":"pam"}',
    });

    assert.equal((data(reply) as Login).username, 'root@pam');
  });

  it('should answer a wrong password with 401 authentication failure after the delay', async () => {
    const started = Date.now();
    const reply = await send(url, 'POST', '/api2/json/access/ticket', {
      token: false,
      body: 'username=root%40pam&password=wrong',
    });

    assert.ok(Date.now() - started >= 35);
    assert.equal(reply.status, 401);
    assert.equal(reply.reason, 'authentication failure');
    assert.equal(reply.body, '{"data":null,"message":"authentication failure\\n"}');
  });

  it('should accept the ticket as a URL-encoded cookie and in the Authorization header', async () => {
    const { ticket } = await login();

    const cookie = await send(url, 'GET', '/api2/json/version', {
      token: false,
      headers: { Cookie: `other=1; PVEAuthCookie=${encodeURIComponent(ticket)}` },
    });
    const header = await send(url, 'GET', '/api2/json/version', {
      token: false,
      headers: { Authorization: `PVEAuthCookie=${ticket}` },
    });

    assert.equal(cookie.status, 200);
    assert.equal(header.status, 200);
  });

  it('should renew a ticket given as the password', async () => {
    const { ticket } = await login();

    const renewed = await login(`username=root%40pam&password=${encodeURIComponent(ticket)}`);

    assert.match(renewed.ticket, /^PVE:root@pam:/);
  });

  it('should want the CSRF token for POST with a ticket, but not for GET or with a token', async () => {
    const { ticket, CSRFPreventionToken } = await login();
    const cookie = { Cookie: `PVEAuthCookie=${ticket}` };

    const without = await send(url, 'POST', '/api2/json/nodes/pve1/lxc/9000/clone', {
      token: false,
      headers: cookie,
      body: 'newid=201',
    });
    const withToken = await send(url, 'POST', '/api2/json/nodes/pve1/lxc/9000/clone', {
      token: false,
      headers: { ...cookie, CSRFPreventionToken },
      body: 'newid=201',
    });

    assertUnauthorized(without, 'Permission denied - invalid csrf token');
    assert.equal(withToken.status, 200);
    assert.match(String(data(withToken)), /:vzclone:9000:root@pam:$/);
  });

  it('should answer missing and bad credentials with a bare 401 after the delay', async () => {
    const started = Date.now();
    const none = await send(url, 'GET', '/api2/json/version', { token: false });
    const badToken = await send(url, 'GET', '/api2/json/version', {
      token: false,
      headers: { Authorization: 'PVEAPIToken=root@pam!test=wrong' },
    });
    const badTicket = await send(url, 'GET', '/api2/json/version', {
      token: false,
      headers: { Cookie: 'PVEAuthCookie=PVE:root@pam:00000000::AAAA' },
    });

    assert.ok(Date.now() - started >= 3 * 35);
    assertUnauthorized(none, 'No ticket');
    assertUnauthorized(badToken, 'Authentication failed!');
    assertUnauthorized(badTicket, 'Authentication failed!');
  });

  it('should read API tokens after = or a space', async () => {
    const spellings = [
      'PVEAPIToken=root@pam!test=00000000-0000-0000-0000-000000000000',
      'PVEAPIToken root@pam!test=00000000-0000-0000-0000-000000000000',
      'Other=1; PVEAPIToken=root%40pam!test=00000000-0000-0000-0000-000000000000',
    ];

    for (const authorization of spellings) {
      const reply = await send(url, 'GET', '/api2/json/version', {
        token: false,
        headers: { Authorization: authorization },
      });
      assert.equal(reply.status, 200, authorization);
    }
  });

  it('should split token id and secret at the last =, so a secret with = never matches', async () => {
    const reply = await send(url, 'GET', '/api2/json/version', {
      token: false,
      headers: { Authorization: 'PVEAPIToken=root@pam!eq=with=equals' },
    });

    assertUnauthorized(reply, 'Authentication failed!');
  });

  it('should refuse the colon token spelling of Proxmox Backup Server', async () => {
    const reply = await send(url, 'GET', '/api2/json/version', {
      token: false,
      headers: { Authorization: 'PVEAPIToken=root@pam!test:00000000-0000-0000-0000-000000000000' },
    });

    assertUnauthorized(reply, 'Authentication failed!');
  });

  it('should prefer a cookie over an API token', async () => {
    const reply = await send(url, 'GET', '/api2/json/version', {
      headers: { Cookie: 'PVEAuthCookie=not-a-ticket' },
    });

    assertUnauthorized(reply, 'Authentication failed!');
  });

  it('should refuse a ticket older than ticketLifetimeMs', async () => {
    await pve.close();
    pve = createFakePve({ authDelayMs: 0, ticketLifetimeMs: 30 });
    url = await pve.listen();
    const { ticket } = await login();
    await new Promise((resolve) => setTimeout(resolve, 40));

    const reply = await send(url, 'GET', '/api2/json/version', {
      token: false,
      headers: { Cookie: `PVEAuthCookie=${ticket}` },
    });

    assertUnauthorized(reply, 'Authentication failed!');
  });

  it('should open only the exact login paths without authentication', async () => {
    const domains = await send(url, 'GET', '/api2/json/access/domains', { token: false });
    const doubled = await send(url, 'GET', '/api2/json/access//domains', { token: false });

    assert.equal(domains.status, 200);
    assertUnauthorized(doubled, 'No ticket');
  });
});
