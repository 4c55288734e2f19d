import type { KeyPair } from './authority.js';
import { certInfo, joinPems, splitPems } from './pem.js';

/**
 * What the certificate Secret holds. `trust` is the caBundle: usually just the signer, during a CA
 * rollover the old CA and the new one. The serving pair is what every replica serves.
 */
export interface CertState {
  signer: KeyPair;
  serving: KeyPair;
  trust: string[];
}

/** Secret keys: tls.crt/tls.key make it a kubernetes.io/tls Secret; ca.crt is the trust bundle, as cert-manager names it. */
const SECRET_KEYS = { cert: 'tls.crt', key: 'tls.key', trust: 'ca.crt', signerCert: 'ca-signer.crt', signerKey: 'ca-signer.key' } as const;

export function encodeState(state: CertState): Record<string, string> {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return {
    [SECRET_KEYS.cert]: b64(state.serving.cert),
    [SECRET_KEYS.key]: b64(state.serving.key),
    [SECRET_KEYS.trust]: b64(joinPems(state.trust)),
    [SECRET_KEYS.signerCert]: b64(state.signer.cert),
    [SECRET_KEYS.signerKey]: b64(state.signer.key),
  };
}

/** The state in a Secret's data, or undefined when something is missing or does not parse (it is then replaced). */
export function decodeState(data: Record<string, string> | undefined): CertState | undefined {
  const get = (k: string) => (data?.[k] ? Buffer.from(data[k], 'base64').toString('utf8') : undefined);
  const cert = get(SECRET_KEYS.cert);
  const key = get(SECRET_KEYS.key);
  const trust = splitPems(get(SECRET_KEYS.trust) ?? '');
  const signerCert = get(SECRET_KEYS.signerCert);
  const signerKey = get(SECRET_KEYS.signerKey);
  if (!cert || !key || !signerCert || !signerKey || trust.length === 0) return undefined;
  try {
    for (const pem of [cert, signerCert, ...trust]) certInfo(pem);
  } catch {
    return undefined;
  }
  return { signer: { cert: signerCert, key: signerKey }, serving: { cert, key }, trust };
}
