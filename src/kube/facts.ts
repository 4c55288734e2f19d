import { CoreV1Api, type KubeConfig, type V1Namespace, type V1Node, type V1Pod } from '@kubernetes/client-node';
import { PodIndex, REGION_LABEL, type ClusterFacts, type NamespaceInfo, type PodInfo } from '../facts/facts.js';
import { withDeadline } from './deadline.js';
import { isNotFound } from './errors.js';
import { Reflector } from './reflector.js';

/** How long a live read of a namespace may take: well inside the webhooks' 5 s timeout. */
const LOOKUP_DEADLINE_MS = 2000;

export interface InformerFactsOptions {
  kc: KubeConfig;
  resyncMs: number;
  watchTimeoutSeconds: number;
  retryMs: number;
  /** Objects per list page (default 500, as client-go's informers). */
  pageSize?: number;
  /** Watch Nodes for the region of the Pods on them. */
  nodes?: boolean;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

/**
 * Cluster facts from informers on namespaces (labels for injection and policy context) and Pods (authz
 * identities by IP and service account). Only what the policy inputs use is kept of each object. While
 * the API server is away the last known state keeps answering; a relist after reconnecting brings in
 * whatever changed meanwhile, deletions included.
 */
export class InformerFacts implements ClusterFacts {
  readonly namespaces: Reflector<V1Namespace, NamespaceInfo>;
  readonly pods: Reflector<V1Pod, PodInfo>;
  readonly nodes: Reflector<V1Node, NodeInfo> | undefined;
  private readonly index = new PodIndex();
  private generation = 0;
  private readonly api: CoreV1Api;
  /** Namespaces read live because the informer had not seen them yet; the informer's copy replaces them. */
  private readonly lookedUp = new Map<string, NamespaceInfo>();
  private readonly lookups = new Map<string, Promise<NamespaceInfo | null>>();

  constructor(options: InformerFactsOptions) {
    const api = (this.api = options.kc.makeApiClient(CoreV1Api));
    const common = { kc: options.kc, resyncMs: options.resyncMs, watchTimeoutSeconds: options.watchTimeoutSeconds, retryMs: options.retryMs, pageSize: options.pageSize ?? 500, log: options.log };
    this.namespaces = new Reflector<V1Namespace, NamespaceInfo>({
      ...common,
      name: 'namespaces',
      path: '/api/v1/namespaces',
      list: (page) => api.listNamespace(page),
      keep: namespaceInfo,
    });
    this.pods = new Reflector<V1Pod, PodInfo>({
      ...common,
      name: 'pods',
      path: '/api/v1/pods',
      list: (page) => api.listPodForAllNamespaces(page),
      keep: podInfo,
    });
    if (options.nodes) {
      this.nodes = new Reflector<V1Node, NodeInfo>({
        ...common,
        name: 'nodes',
        path: '/api/v1/nodes',
        list: (page) => api.listNode(page),
        keep: (n) => ({ name: n.metadata?.name ?? '', ...(n.metadata?.labels?.[REGION_LABEL] ? { region: n.metadata.labels[REGION_LABEL] } : {}) }),
      });
    }
    const changed = (n: NamespaceInfo) => {
      this.lookedUp.delete(n.name);
      this.generation++;
    };
    this.namespaces.on('add', changed);
    this.namespaces.on('update', changed);
    this.namespaces.on('delete', changed);
    // A full list is the API server's whole truth: a namespace read live and deleted since is not in it.
    this.namespaces.on('synced', () => {
      if (this.lookedUp.size === 0) return;
      this.lookedUp.clear();
      this.generation++;
    });
    this.pods.on('add', (p) => this.index.upsert(p));
    this.pods.on('update', (p) => this.index.upsert(p));
    this.pods.on('delete', (p) => this.index.remove(p.namespace, p.name));
  }

  start(): void {
    this.namespaces.start();
    this.pods.start();
    this.nodes?.start();
  }

  async stop(): Promise<void> {
    await Promise.all([this.namespaces.stop(), this.pods.stop(), this.nodes?.stop()]);
  }

  namespace(name: string): NamespaceInfo | null {
    return this.namespaces.get(name) ?? this.lookedUp.get(name) ?? null;
  }

  /**
   * Reads a namespace the informer has not seen yet from the API server. The API server only sends a
   * review for an object whose namespace exists, so a miss means the watch is behind (a namespace and its
   * Pods applied together, a replica whose first list is not done): deciding on "no such namespace"
   * would admit a mesh Pod without its sidecar. Concurrent reads of one name share a request; a read
   * namespace counts as known until the informer's own copy arrives.
   */
  lookupNamespace(name: string): Promise<NamespaceInfo | null> {
    const known = this.namespace(name);
    if (known) return Promise.resolve(known);
    let pending = this.lookups.get(name);
    if (!pending) {
      pending = withDeadline(this.api.readNamespace({ name }), LOOKUP_DEADLINE_MS, `reading namespace ${name}`)
        .then(
          (n) => {
            const info = namespaceInfo(n);
            if (!this.namespaces.get(name)) {
              this.lookedUp.set(name, info);
              this.generation++;
            }
            return info;
          },
          (err: unknown) => {
            if (isNotFound(err)) return null;
            throw err;
          },
        )
        .finally(() => this.lookups.delete(name));
      this.lookups.set(name, pending);
    }
    return pending;
  }

  allNamespaces(): NamespaceInfo[] {
    const all = [...this.namespaces.values()];
    for (const [name, info] of this.lookedUp) if (!this.namespaces.get(name)) all.push(info);
    return all;
  }

  namespaceGeneration(): number {
    return this.generation;
  }

  podByIp(ip: string): PodInfo | undefined {
    return this.index.podByIp(ip);
  }

  podsByIdentity(namespace: string, serviceAccount: string): PodInfo[] {
    return this.index.podsByIdentity(namespace, serviceAccount);
  }

  nodeRegion(node: string): string | undefined {
    return this.nodes?.get(node)?.region;
  }

  synced(): boolean {
    return this.namespaces.synced() && this.pods.synced() && (this.nodes?.synced() ?? true);
  }

  status() {
    return { namespaces: this.namespaces.status(), pods: this.pods.status(), ...(this.nodes ? { nodes: this.nodes.status() } : {}) };
  }
}

function namespaceInfo(n: V1Namespace): NamespaceInfo {
  return { name: n.metadata?.name ?? '', labels: { ...n.metadata?.labels }, annotations: { ...n.metadata?.annotations } };
}

function podInfo(pod: V1Pod): PodInfo {
  const ip = pod.status?.podIP;
  // A finished Pod's IP goes back to the pool and may already belong to another Pod.
  const running = pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed';
  return {
    name: pod.metadata?.name ?? '',
    namespace: pod.metadata?.namespace ?? '',
    serviceAccount: pod.spec?.serviceAccountName || 'default',
    labels: { ...pod.metadata?.labels },
    ...(ip && running ? { ip } : {}),
    ...(pod.spec?.nodeName ? { node: pod.spec.nodeName } : {}),
  };
}

/** What is kept of a Node: its region, which the cloud provider or the administrator sets, not the workload. */
interface NodeInfo {
  name: string;
  region?: string;
}

