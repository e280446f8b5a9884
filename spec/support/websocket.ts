import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Open a websocket through `baseUrl`, send one masked text frame and resolve with the text of
 * the first frame that comes back. Small and strict: enough to prove a tunnel works.
 */
export function echoOverWebsocket(
  baseUrl: string,
  path: string,
  text: string,
  headers: Record<string, string> = {},
): Promise<{ echoed: string; status: number }> {
  const url = new URL(path, baseUrl);
  return new Promise((resolve, reject) => {
    const req = request({
      host: url.hostname,
      port: url.port,
      path,
      agent: false,
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
        ...headers,
      },
    });
    req.on('error', reject);
    req.on('response', (res) => reject(new Error(`no upgrade: HTTP ${res.statusCode}`)));
    req.on('upgrade', (res, socket: Socket, head) => {
      let buffer = head;
      const onData = (chunk: Buffer) => {
        buffer = Buffer.concat([buffer, chunk]);
        const frame = readFrame(buffer);
        if (!frame) return;
        socket.off('data', onData);
        socket.destroy();
        resolve({ echoed: frame, status: res.statusCode ?? 0 });
      };
      socket.on('data', onData);
      socket.on('error', reject);
      socket.write(createMaskedTextFrame(text));
      if (buffer.length > 0) onData(Buffer.alloc(0));
    });
    req.end();
  });
}

function createMaskedTextFrame(text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  if (payload.length > 125) throw new RangeError('keep test frames short');
  const mask = randomBytes(4);
  const masked = Buffer.from(payload.map((byte, index) => byte ^ mask[index % 4]));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
}

function readFrame(buffer: Buffer): string | undefined {
  if (buffer.length < 2) return undefined;
  const length = buffer[1] & 0x7f;
  const masked = (buffer[1] & 0x80) !== 0;
  const start = 2 + (masked ? 4 : 0);
  if (length > 125 || buffer.length < start + length) return undefined;

  const payload = Buffer.from(buffer.subarray(start, start + length));
  if (masked) {
    const mask = buffer.subarray(2, 6);
    for (let index = 0; index < payload.length; index += 1) payload[index] ^= mask[index % 4];
  }
  return payload.toString('utf8');
}
