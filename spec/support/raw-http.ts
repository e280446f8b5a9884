import { connect } from 'node:net';

/**
 * Write bytes to a server as they are (malformed requests that no HTTP client would send) and
 * resolve with everything it answered until it closed the connection.
 */
export function sendRaw(baseUrl: string, request: string): Promise<string> {
  const port = Number(new URL(baseUrl).port);
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk;
    });
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
}
