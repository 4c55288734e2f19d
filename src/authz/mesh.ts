import { REGION_LABEL, type ClusterFacts, type PodInfo } from '../facts/facts.js';
import type { AuthzConfig } from './config.js';
import { clientIp } from './geo/client-ip.js';
import type { CountryLookup } from './geo/country.js';
import { parseSpiffeId, type SpiffeIdentity } from './identity/spiffe.js';
import { xfccUri } from './identity/xfcc.js';
import type { CheckAttributes, PeerAttributes } from './input/attributes.js';
import type { JwtFacts } from './jwt/verify.js';

export interface PeerFacts {
  /** The verified SPIFFE ID, "" when there is none or it is not a valid mesh identity. */
  principal: string;
  trust_domain: string;
  namespace: string;
  service_account: string;
  ip: string;
  labels: Record<string, string>;
  namespace_labels: Record<string, string>;
  /** Set when a principal was presented but is not a spiffe://<td>/ns/<ns>/sa/<sa> ID. */
  identity_error?: 'unknown_identity';
}

export interface SourceFacts extends PeerFacts {
  region?: string;
  country?: string;
}

/** input.mesh: what TypeScript established about the request before the policy decides. */
export interface MeshFacts {
  jwt: JwtFacts;
  source: SourceFacts;
  destination: PeerFacts;
  cluster: { name: string; trustDomain: string };
}

const NONE: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** Gathers identity, workload labels and geography for input.mesh from the request and the cluster facts. */
export class MeshBuilder {
  constructor(
    private readonly config: AuthzConfig,
    private readonly facts: ClusterFacts,
    private readonly geo: CountryLookup | undefined,
    private readonly cluster: { name: string; trustDomain: string },
  ) {}

  build(attributes: CheckAttributes, jwt: JwtFacts): MeshFacts {
    const headers = attributes.request?.http?.headers;
    const sourcePrincipal = attributes.source?.principal || (this.config.identity.trustXfcc ? xfccUri(headers?.['x-forwarded-client-cert']) : undefined);
    const peerIp = address(attributes.source);
    const { facts: source, pod } = this.peer(sourcePrincipal, peerIp);
    const ip = clientIp(peerIp, headers?.['x-forwarded-for'], this.config.geo.xffNumTrustedHops);
    if (ip) source.ip = ip;
    if (this.geo && ip) {
      const country = this.geo.country(ip);
      if (country) source.country = country;
    }
    // The Pod's locality describes the caller only when the caller is that Pod, not a client behind it.
    // Its Node's label comes first: whoever writes the workload can label the Pod, not the Node.
    const podRegion = ip === peerIp && pod ? (pod.region ?? (pod.node ? this.facts.nodeRegion?.(pod.node) : undefined) ?? pod.labels[REGION_LABEL]) : undefined;
    const region = podRegion ?? (source.country ? this.config.geo.countryRegions[source.country] : undefined);
    if (region) source.region = region;
    return { jwt, source, destination: this.peer(attributes.destination?.principal, address(attributes.destination)).facts, cluster: this.cluster };
  }

  private peer(principal: string | undefined, ip: string): { facts: SourceFacts; pod: PodInfo | undefined } {
    const id = parseSpiffeId(principal);
    const pod = this.pod(id, ip);
    const namespace = id?.namespace ?? pod?.namespace;
    const facts: SourceFacts = {
      principal: id?.principal ?? '',
      trust_domain: id?.trust_domain ?? '',
      namespace: id?.namespace ?? '',
      service_account: id?.service_account ?? '',
      ip,
      labels: pod?.labels ?? NONE,
      namespace_labels: (namespace && this.facts.namespace(namespace)?.labels) || NONE,
    };
    if (principal && !id) facts.identity_error = 'unknown_identity';
    return { facts, pod };
  }

  /**
   * The calling workload: the Pod at the peer address when it runs as the verified identity (or there is no
   * identity), else any Pod of that identity. An address is a weaker fact than a certificate, so the two
   * must agree before the address's labels are believed.
   */
  private pod(id: SpiffeIdentity | undefined, ip: string): PodInfo | undefined {
    const byIp = ip ? this.facts.podByIp(ip) : undefined;
    if (!id) return byIp;
    if (byIp && byIp.namespace === id.namespace && byIp.serviceAccount === id.service_account) return byIp;
    return this.facts.podsByIdentity(id.namespace, id.service_account)[0];
  }
}

function address(peer: PeerAttributes | undefined): string {
  return peer?.address?.socketAddress?.address ?? '';
}
