import { CoreV1Api, type KubeConfig, type V1Namespace, type V1Pod } from '@kubernetes/client-node';
import { PodIndex, type ClusterFacts, type NamespaceInfo, type PodInfo } from '../facts/facts.js';
import { Reflector } from './reflector.js';

export interface InformerFactsOptions {
  kc: KubeConfig;
  resyncMs: number;
  watchTimeoutSeconds: number;
  retryMs: number;
  /** Objects per list page (default 500, as client-go's informers). */
  pageSize?: number;
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
  private readonly index = new PodIndex();

  constructor(options: InformerFactsOptions) {
    const api = options.kc.makeApiClient(CoreV1Api);
    const common = { kc: options.kc, resyncMs: options.resyncMs, watchTimeoutSeconds: options.watchTimeoutSeconds, retryMs: options.retryMs, pageSize: options.pageSize ?? 500, log: options.log };
    this.namespaces = new Reflector<V1Namespace, NamespaceInfo>({
      ...common,
      name: 'namespaces',
      path: '/api/v1/namespaces',
      list: (page) => api.listNamespace(page),
      keep: (n) => ({ name: n.metadata?.name ?? '', labels: { ...n.metadata?.labels }, annotations: { ...n.metadata?.annotations } }),
    });
    this.pods = new Reflector<V1Pod, PodInfo>({
      ...common,
      name: 'pods',
      path: '/api/v1/pods',
      list: (page) => api.listPodForAllNamespaces(page),
      keep: podInfo,
    });
    this.pods.on('add', (p) => this.index.upsert(p));
    this.pods.on('update', (p) => this.index.upsert(p));
    this.pods.on('delete', (p) => this.index.remove(p.namespace, p.name));
  }

  start(): void {
    this.namespaces.start();
    this.pods.start();
  }

  async stop(): Promise<void> {
    await Promise.all([this.namespaces.stop(), this.pods.stop()]);
  }

  namespace(name: string): NamespaceInfo | null {
    return this.namespaces.get(name) ?? null;
  }

  podByIp(ip: string): PodInfo | undefined {
    return this.index.podByIp(ip);
  }

  podsByIdentity(namespace: string, serviceAccount: string): PodInfo[] {
    return this.index.podsByIdentity(namespace, serviceAccount);
  }

  synced(): boolean {
    return this.namespaces.synced() && this.pods.synced();
  }

  status() {
    return { namespaces: this.namespaces.status(), pods: this.pods.status() };
  }
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
  };
}
