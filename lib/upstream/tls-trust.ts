import type { TLSSocket } from 'node:tls';

import { ProxyError } from '../errors';

/** Settings that decide which PVE certificate we accept, shared by both upstream paths. */
export interface TlsTrust {
  skipTlsVerify: boolean;
  ca?: string;
  tlsFingerprint?: string;
}

/**
 * Node TLS options for a connection to PVE. With a pinned fingerprint the chain check is off
 * (PVE's certificates are often self-signed) and `verifyPinnedCertificate` decides instead.
 */
export function createTlsOptions(trust: TlsTrust): { rejectUnauthorized: boolean; ca?: string[] } {
  const pinned = trust.tlsFingerprint !== undefined;
  const options: { rejectUnauthorized: boolean; ca?: string[] } = {
    rejectUnauthorized: !trust.skipTlsVerify && !pinned,
  };
  if (trust.ca !== undefined) options.ca = [trust.ca];
  return options;
}

/** Throws when the peer's certificate does not have the pinned SHA-256 fingerprint. */
export function verifyPinnedCertificate(socket: TLSSocket, fingerprint: string): void {
  const seen = socket.getPeerX509Certificate()?.fingerprint256;
  if (seen?.toUpperCase() === fingerprint) return;

  throw new ProxyError(
    'CLONE_PROXY_UPSTREAM_TLS',
    `PVE certificate fingerprint ${seen ?? '(none)'} does not match CLONE_PROXY_TLS_FINGERPRINT`,
  );
}

const CERT_ERROR_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_UNTRUSTED',
]);

/** Whether a connection error is a certificate the proxy refused to trust. */
export function isCertificateError(error: unknown): boolean {
  const code = (error as { code?: string } | undefined)?.code;
  return code !== undefined && CERT_ERROR_CODES.has(code);
}
