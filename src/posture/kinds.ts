/**
 * The kinds the validating webhook judges on CREATE (webhooks/validating.yaml; a test keeps the two equal).
 * Versions are those the webhook's rules list, preferred first: the audit lists each kind in the first one
 * the API server serves, and `portcullis eval` accepts any of them (the API server converts an older
 * version before the webhook sees it, matchPolicy: Equivalent). ['*'] is every version, as in the webhook:
 * the audit takes the group's versions in the API server's order of preference.
 */
export interface JudgedKind {
  group: string;
  versions: string[];
  /** The plural resource name of the API paths. */
  resource: string;
  kind: string;
}

/** A webhook rule's apiVersions: ["*"]. */
export const ANY_VERSION = '*';

export const JUDGED_KINDS: readonly JudgedKind[] = [
  { group: '', versions: ['v1'], resource: 'pods', kind: 'Pod' },
  { group: '', versions: ['v1'], resource: 'services', kind: 'Service' },
  { group: '', versions: ['v1'], resource: 'replicationcontrollers', kind: 'ReplicationController' },
  { group: 'apps', versions: ['v1'], resource: 'deployments', kind: 'Deployment' },
  { group: 'apps', versions: ['v1'], resource: 'statefulsets', kind: 'StatefulSet' },
  { group: 'apps', versions: ['v1'], resource: 'daemonsets', kind: 'DaemonSet' },
  { group: 'apps', versions: ['v1'], resource: 'replicasets', kind: 'ReplicaSet' },
  { group: 'batch', versions: ['v1'], resource: 'jobs', kind: 'Job' },
  { group: 'batch', versions: ['v1'], resource: 'cronjobs', kind: 'CronJob' },
  { group: 'security.istio.io', versions: ['v1', 'v1beta1'], resource: 'peerauthentications', kind: 'PeerAuthentication' },
  { group: 'security.istio.io', versions: ['v1', 'v1beta1'], resource: 'authorizationpolicies', kind: 'AuthorizationPolicy' },
  { group: 'security.istio.io', versions: ['v1', 'v1beta1'], resource: 'requestauthentications', kind: 'RequestAuthentication' },
  { group: 'networking.istio.io', versions: ['v1', 'v1beta1', 'v1alpha3'], resource: 'destinationrules', kind: 'DestinationRule' },
  // Istio's kinds that change the proxy (rule proxy-extension-allowlist): alpha and beta, every version.
  { group: 'networking.istio.io', versions: [ANY_VERSION], resource: 'envoyfilters', kind: 'EnvoyFilter' },
  { group: 'networking.istio.io', versions: [ANY_VERSION], resource: 'proxyconfigs', kind: 'ProxyConfig' },
  { group: 'extensions.istio.io', versions: [ANY_VERSION], resource: 'wasmplugins', kind: 'WasmPlugin' },
  { group: 'extensions.istio.io', versions: [ANY_VERSION], resource: 'trafficextensions', kind: 'TrafficExtension' },
];

/** The judged kind of an object's apiVersion and kind, in one of the versions the webhook accepts; undefined otherwise. */
export function judgedKind(apiVersion: string, kind: string): JudgedKind | undefined {
  const slash = apiVersion.lastIndexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = apiVersion.slice(slash + 1);
  return JUDGED_KINDS.find((k) => k.group === group && k.kind === kind && (k.versions.includes(version) || (k.versions.includes(ANY_VERSION) && version !== '')));
}

/** "apps/Deployment", "Pod": how the rules, the audit log and the reports name a kind. */
export function kindName(group: string, kind: string): string {
  return group ? `${group}/${kind}` : kind;
}

/** The collection's path across all namespaces (or in one), in a given version. */
export function collectionPath(k: JudgedKind, version: string, namespace?: string): string {
  const base = k.group ? `/apis/${k.group}/${version}` : `/api/${version}`;
  return namespace ? `${base}/namespaces/${namespace}/${k.resource}` : `${base}/${k.resource}`;
}

/** "apps/Deployment" → "Deployment". */
export function bareKind(kind: string): string {
  return kind.slice(kind.lastIndexOf('/') + 1);
}
