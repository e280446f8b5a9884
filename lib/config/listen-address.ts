import { isIP } from 'node:net';

export interface ListenAddress {
  host: string;
  port: number;
}

/** Parse `host:port` or `[v6]:port`; the port may be 0 (any free port). */
export function parseListenAddress(text: string): ListenAddress | undefined {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(text.trim());
  if (!match) return undefined;

  const host = match[1] ?? match[2];
  const port = Number(match[3]);
  if (port > 65535) return undefined;
  if (match[1] !== undefined && isIP(host) !== 6) return undefined;

  return { host, port };
}

/** The address as an operator writes it: IPv6 hosts in brackets. */
export function formatListenAddress(address: ListenAddress): string {
  return isIP(address.host) === 6
    ? `[${address.host}]:${address.port}`
    : `${address.host}:${address.port}`;
}
