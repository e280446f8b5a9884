import { createHash } from 'node:crypto';
import { type IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

import { serverError } from './errors';
import { answerError } from './handle-request';
import { parseRequestTarget } from './path';
import type { FakeState } from './state';

const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;

type HttpHandler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Answers `upgrade` requests. A GET to a path ending in `websocket` becomes an echo websocket
 * (PVE would proxy a VNC or terminal stream there; authentication and the `vncticket` are not
 * checked). Any other upgrade request is answered as a normal request on a closing connection,
 * because PVE ignores the Upgrade header elsewhere (pve-http-server AnyEvent.pm).
 */
export function createUpgradeHandler(
  state: FakeState,
  handleHttp: HttpHandler,
  sockets: Set<Duplex>,
) {
  return (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    // A peer that ends its side gets ours ended too, as PVE's server closes such a tunnel.
    socket.on('end', () => socket.end());

    const path = safePath(req.url ?? '');
    if (req.method !== 'GET' || !path.endsWith('websocket')) {
      handleHttp(req, detachedResponse(req, socket));
      return;
    }

    state.recorder.request(req);
    const problem = handshakeProblem(req);
    if (problem) {
      answerError(
        state,
        detachedResponse(req, socket),
        'json',
        serverError(500, problem),
        Date.now(),
      );
      return;
    }

    const key = String(req.headers['sec-websocket-key']);
    const accept = createHash('sha1').update(`${key}${WEBSOCKET_GUID}`).digest('base64');
    const protocol = req.headers['sec-websocket-protocol'];
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\n' +
        'Upgrade: websocket\r\n' +
        'Connection: upgrade\r\n' +
        `Sec-WebSocket-Accept: ${accept}\r\n` +
        (protocol ? `Sec-WebSocket-Protocol: ${protocol}\r\n` : '') +
        '\r\n',
    );
    echoFrames(socket, head);
  };
}

/** The checks of AnyEvent.pm, handle_api2_request, with its messages. */
function handshakeProblem(req: IncomingMessage): string | undefined {
  const upgrade = String(req.headers.upgrade ?? '').toLowerCase();
  if (upgrade !== 'websocket') return `unable to upgrade to protocol '${upgrade}'\n`;
  const version = req.headers['sec-websocket-version'];
  if (version !== '13') return `unsupported websocket-version '${version ?? ''}'\n`;
  if (!req.headers['sec-websocket-key']) return 'missing websocket-key\n';
  return undefined;
}

/** Echoes data frames back unmasked, answers ping with pong and close with close. */
function echoFrames(socket: Duplex, head: Buffer): void {
  let pending = head;

  const drain = () => {
    for (;;) {
      const frame = readFrame(pending);
      if (frame === 'incomplete') return;
      if (frame === 'invalid') {
        closeWith(socket, 1002);
        return;
      }
      pending = pending.subarray(frame.length);

      if (frame.opcode <= 2) socket.write(encodeFrame(frame.fin, frame.opcode, frame.payload));
      else if (frame.opcode === 9) socket.write(encodeFrame(true, 10, frame.payload));
      else if (frame.opcode === 8) {
        socket.end(encodeFrame(true, 8, frame.payload));
        return;
      } else if (frame.opcode !== 10) {
        closeWith(socket, 1002);
        return;
      }
    }
  };

  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    drain();
  });
  drain();
}

interface Frame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
  length: number;
}

/** RFC 6455 section 5.2; a client frame must be masked. */
function readFrame(data: Buffer): Frame | 'incomplete' | 'invalid' {
  if (data.length < 2) return 'incomplete';

  const fin = (data[0] & 0x80) !== 0;
  const opcode = data[0] & 0x0f;
  if ((data[1] & 0x80) === 0) return 'invalid';

  let size = data[1] & 0x7f;
  let offset = 2;
  if (size === 126) {
    if (data.length < 4) return 'incomplete';
    size = data.readUInt16BE(2);
    offset = 4;
  } else if (size === 127) {
    if (data.length < 10) return 'incomplete';
    size = Number(data.readBigUInt64BE(2));
    offset = 10;
  }
  if (size > MAX_PAYLOAD_BYTES) return 'invalid';
  if (data.length < offset + 4 + size) return 'incomplete';

  const mask = data.subarray(offset, offset + 4);
  const payload = Buffer.from(data.subarray(offset + 4, offset + 4 + size));
  for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i % 4];
  return { fin, opcode, payload, length: offset + 4 + size };
}

function encodeFrame(fin: boolean, opcode: number, payload: Buffer): Buffer {
  const first = (fin ? 0x80 : 0) | opcode;
  let header: Buffer;
  if (payload.length < 126) {
    header = Buffer.from([first, payload.length]);
  } else if (payload.length < 0x10000) {
    header = Buffer.alloc(4);
    header.writeUInt16BE(payload.length, 2);
    header[1] = 126;
  } else {
    header = Buffer.alloc(10);
    header.writeBigUInt64BE(BigInt(payload.length), 2);
    header[1] = 127;
  }
  header[0] = first;
  return Buffer.concat([header, payload]);
}

function closeWith(socket: Duplex, code: number): void {
  const payload = Buffer.alloc(2);
  payload.writeUInt16BE(code);
  socket.end(encodeFrame(true, 8, payload));
}

/** A response written straight to an upgrade request's socket, closing it when done. */
function detachedResponse(req: IncomingMessage, socket: Duplex): ServerResponse {
  const res = new ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket as Parameters<ServerResponse['assignSocket']>[0]);
  res.on('finish', () => socket.end());
  return res;
}

function safePath(url: string): string {
  try {
    return parseRequestTarget(url).path;
  } catch {
    return '';
  }
}
