import type { Dispatcher } from 'undici';

import type { ProxyConfig } from '../config/proxy-config';
import type { PveAnswer } from '../pve/answer';
import { exchangeUpstream } from './upstream-exchange';

/**
 * A GET the proxy makes on a client's behalf (task status, task list, cluster status, nextid),
 * with that client's own credentials and the configured request timeout.
 */
export function getFromPve(
  context: { config: Readonly<ProxyConfig>; upstream: Dispatcher },
  path: string,
  credentials: string[],
): Promise<PveAnswer> {
  return exchangeUpstream(context.upstream, {
    origin: context.config.target,
    method: 'GET',
    path,
    headers: credentials,
    timeoutMs: context.config.requestTimeoutMs,
  });
}
