/** The well-known label of a Node's (or, less trustworthy, a Pod's) region. */
export const REGION_LABEL = 'topology.kubernetes.io/region';

/** What the policy inputs need to know about the cluster, whichever way it is learnt (informers or a file). */
export interface NamespaceInfo {
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface PodInfo {
  name: string;
  namespace: string;
  serviceAccount: string;
  ip?: string;
  labels: Record<string, string>;
  /** Region of the node the Pod runs on (topology.kubernetes.io/region), when the facts file says so. */
  region?: string;
  /** The Node the Pod is scheduled on (spec.nodeName). */
  node?: string;
}

export interface ClusterFacts {
  namespace(name: string): NamespaceInfo | null;
  /**
   * Asks the source of truth for a namespace that namespace() does not know (informers that are behind);
   * null when it does not exist. Absent where namespace() is the whole truth (a facts file).
   */
  lookupNamespace?(name: string): Promise<NamespaceInfo | null>;
  podByIp(ip: string): PodInfo | undefined;
  /** Pods running as this identity; a workload's labels when the caller is known only by its SPIFFE ID. */
  podsByIdentity(namespace: string, serviceAccount: string): PodInfo[];
  /** The topology.kubernetes.io/region label of a Node, when Nodes are watched. */
  nodeRegion?(node: string): string | undefined;
  /** False until the first full view has been received; decisions still run, on what is known. */
  synced(): boolean;
  /** Every namespace: the copy the admission decision workers keep. */
  allNamespaces(): NamespaceInfo[];
  /** Changes whenever a namespace does, so a copy knows when it is stale. */
  namespaceGeneration(): number;
}

/** An index of Pods kept consistent on every change, shared by the file and informer implementations. */
export class PodIndex {
  private readonly byKey = new Map<string, PodInfo>();
  private readonly byIp = new Map<string, PodInfo>();
  private readonly byIdentity = new Map<string, Map<string, PodInfo>>();

  upsert(pod: PodInfo): void {
    this.remove(pod.namespace, pod.name);
    const key = `${pod.namespace}/${pod.name}`;
    this.byKey.set(key, pod);
    if (pod.ip) this.byIp.set(pod.ip, pod);
    const id = `${pod.namespace}/${pod.serviceAccount}`;
    let set = this.byIdentity.get(id);
    if (!set) this.byIdentity.set(id, (set = new Map()));
    set.set(key, pod);
  }

  remove(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    const old = this.byKey.get(key);
    if (!old) return;
    this.byKey.delete(key);
    if (old.ip && this.byIp.get(old.ip) === old) this.byIp.delete(old.ip);
    const id = `${old.namespace}/${old.serviceAccount}`;
    this.byIdentity.get(id)?.delete(key);
    if (this.byIdentity.get(id)?.size === 0) this.byIdentity.delete(id);
  }

  clear(): void {
    this.byKey.clear();
    this.byIp.clear();
    this.byIdentity.clear();
  }

  podByIp(ip: string): PodInfo | undefined {
    return this.byIp.get(ip);
  }

  podsByIdentity(namespace: string, serviceAccount: string): PodInfo[] {
    return [...(this.byIdentity.get(`${namespace}/${serviceAccount}`)?.values() ?? [])];
  }
}
