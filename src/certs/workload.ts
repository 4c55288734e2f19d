/**
 * What the proxies and Portcullis' SDS server agree on about workload certificates: the names of the two
 * secrets (as Istio names them, so Envoy configurations written for Istio read the same), and the identity.
 */
export const WORKLOAD_CERTIFICATE = 'default';
export const TRUST_BUNDLE = 'ROOTCA';

/** The SPIFFE ID of a ServiceAccount: spiffe://<trust domain>/ns/<namespace>/sa/<service account>. */
export function spiffeId(trustDomain: string, namespace: string, serviceAccount: string): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}
