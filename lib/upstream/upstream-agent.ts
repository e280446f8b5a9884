import type { TLSSocket } from 'node:tls';

import type { Agent, Dispatcher } from 'undici';

import { createTlsOptions, type TlsTrust, verifyPinnedCertificate } from './tls-trust';

/** The upstream dispatcher, and a way to load undici before the first clone needs it. */
export type UpstreamAgent = Dispatcher & { warmUp(): void };

/**
 * The one undici dispatcher for the requests the proxy makes itself (clones and task polls):
 * keep-alive connections to PVE with the configured certificate trust. undici is loaded after
 * the listener is up (`warmUp`) or on the first request, not before listening: it is the
 * largest of our modules to load, and a proxy that is only restarted should listen again at
 * once. Loading it costs the first clone about 80 ms when nothing warmed it up.
 */
export function createUpstreamAgent(trust: TlsTrust): UpstreamAgent {
  let agent: Agent | undefined;
  const get = () => {
    agent ??= buildAgent(trust);
    return agent;
  };

  const lazy = {
    dispatch: (options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler) =>
      get().dispatch(options, handler),
    close: async () => {
      await agent?.close();
    },
    destroy: async () => {
      await agent?.destroy();
    },
    warmUp: () => {
      get();
    },
  };
  return lazy as unknown as UpstreamAgent;
}

function buildAgent(trust: TlsTrust): Agent {
  const { Agent: UndiciAgent, buildConnector } = require('undici') as typeof import('undici');
  const connect = buildConnector({ ...createTlsOptions(trust) });
  const fingerprint = trust.tlsFingerprint;
  if (fingerprint === undefined) return new UndiciAgent({ connect });

  return new UndiciAgent({
    connect(options, callback) {
      connect(options, (error, socket) => {
        if (error || !socket || options.protocol !== 'https:')
          return callback(error, socket as never);
        try {
          verifyPinnedCertificate(socket as TLSSocket, fingerprint);
        } catch (mismatch) {
          socket.destroy();
          return callback(mismatch as Error, null);
        }
        callback(null, socket);
      });
    },
  });
}
