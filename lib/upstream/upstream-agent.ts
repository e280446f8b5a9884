import { Agent, buildConnector } from 'undici';

import { createTlsOptions, type TlsTrust, verifyPinnedCertificate } from './tls-trust';

/**
 * The one undici dispatcher for the requests the proxy makes itself (clones and task polls):
 * keep-alive connections to PVE with the configured certificate trust.
 */
export function createUpstreamAgent(trust: TlsTrust): Agent {
  const connect = buildConnector({ ...createTlsOptions(trust) });
  const fingerprint = trust.tlsFingerprint;
  if (fingerprint === undefined) return new Agent({ connect });

  return new Agent({
    connect(options, callback) {
      connect(options, (error, socket) => {
        if (error || !socket || options.protocol !== 'https:')
          return callback(error, socket as never);
        try {
          verifyPinnedCertificate(socket as import('node:tls').TLSSocket, fingerprint);
        } catch (mismatch) {
          socket.destroy();
          return callback(mismatch as Error, null);
        }
        callback(null, socket);
      });
    },
  });
}
