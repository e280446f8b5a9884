import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';

import { createFakePve, type FakePve } from '../../lib/fake-pve';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const PATH = '/api2/json/nodes/pve1/lxc/100/vncwebsocket?port=5900&vncticket=x';

/** A raw client: collects every byte the server sends. */
function open(url: string): { socket: Socket; received: () => Buffer; closed: Promise<void> } {
  const { port } = new URL(url);
  const socket = connect(Number(port), '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (chunk) => chunks.push(chunk));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  return { socket, received: () => Buffer.concat(chunks), closed };
}

function handshake(path: string, headers: Record<string, string>): string {
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  return `GET ${path} HTTP/1.1\r\nHost: pve\r\n${lines.join('')}\r\n`;
}

function maskedFrame(opcode: number, payload: Buffer): Buffer {
  const mask = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]));
  return Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | payload.length]), mask, masked]);
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 2));
}

const UPGRADE = {
  Upgrade: 'websocket',
  Connection: 'keep-alive, Upgrade',
  'Sec-WebSocket-Key': KEY,
  'Sec-WebSocket-Version': '13',
};

describe('fake PVE: websocket echo', () => {
  let pve: FakePve;
  let url: string;

  beforeEach(async () => {
    pve = createFakePve({ authDelayMs: 0 });
    url = await pve.listen();
  });

  afterEach(() => pve.close());

  it('should accept the handshake and echo text, answer ping and close', async () => {
    const client = open(url);
    client.socket.write(handshake(PATH, UPGRADE));
    await until(() => client.received().includes('\r\n\r\n'));

    const accept = createHash('sha1')
      .update(`${KEY}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
      .digest('base64');
    assert.equal(
      client.received().toString(),
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    const headerLength = client.received().length;

    client.socket.write(maskedFrame(1, Buffer.from('hello')));
    client.socket.write(maskedFrame(9, Buffer.from('p')));
    await until(() => client.received().length >= headerLength + 7 + 3);
    assert.deepEqual(
      client.received().subarray(headerLength),
      Buffer.concat([
        Buffer.from([0x81, 5]),
        Buffer.from('hello'),
        Buffer.from([0x8a, 1]),
        Buffer.from('p'),
      ]),
    );

    client.socket.write(maskedFrame(8, Buffer.from([0x03, 0xe8])));
    await client.closed;
    assert.deepEqual(client.received().subarray(-4), Buffer.from([0x88, 2, 0x03, 0xe8]));
  });

  it('should refuse a websocket version other than 13', async () => {
    const client = open(url);
    client.socket.write(handshake(PATH, { ...UPGRADE, 'Sec-WebSocket-Version': '8' }));
    await client.closed;

    assert.match(
      client.received().toString(),
      /^HTTP\/1\.1 500 unsupported websocket-version '8'\r\n/,
    );
  });

  it('should answer an upgrade on any other path as a normal request', async () => {
    const client = open(url);
    client.socket.write(handshake('/api2/json/version', UPGRADE));
    await client.closed;

    assert.match(client.received().toString(), /^HTTP\/1\.1 401 No ticket\r\n/);
  });

  it('should close open websockets on close()', async () => {
    const client = open(url);
    client.socket.write(handshake(PATH, UPGRADE));
    await until(() => client.received().includes('\r\n\r\n'));

    await pve.close();
    await client.closed;
  });
});
