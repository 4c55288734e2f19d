/** A workload identity of the mesh: spiffe://<trust domain>/ns/<namespace>/sa/<service account>. */
export interface SpiffeIdentity {
  principal: string;
  trust_domain: string;
  namespace: string;
  service_account: string;
}

// Trust domain as the SPIFFE ID spec allows it (lower-case letters, digits, dot, dash, underscore); namespace a
// DNS-1123 label and service account a DNS-1123 subdomain, as Kubernetes names them. No escapes, no query,
// no fragment, no empty or extra segment: an ID that is almost right is not an identity.
const SPIFFE = /^spiffe:\/\/([a-z0-9._-]{1,255})\/ns\/([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)\/sa\/([a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?)$/;

/** The parsed identity, or undefined for anything that is not exactly a Kubernetes SPIFFE ID. */
export function parseSpiffeId(id: string | undefined): SpiffeIdentity | undefined {
  if (!id || id.length > 2048) return undefined;
  const m = SPIFFE.exec(id);
  if (!m) return undefined;
  const [, td, ns, sa] = m as unknown as [string, string, string, string];
  if (td.startsWith('.') || td.endsWith('.') || td.includes('..')) return undefined;
  return { principal: id, trust_domain: td, namespace: ns, service_account: sa };
}
