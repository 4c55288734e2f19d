import { CustomObjectsApi, type KubeConfig, type V1Namespace } from '@kubernetes/client-node';
import type { NamespaceInfo } from '../facts/facts.js';
import { describe, isConflict, statusOf } from './errors.js';
import type { Reflector } from './reflector.js';

export interface DefaultDenyOptions {
  kc: KubeConfig;
  namespaces: Reflector<V1Namespace, NamespaceInfo>;
  name: string;
  injectionLabel: string;
  log: { debug(obj: object, msg: string): void; info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

/**
 * Ensures the namespace-wide deny-all AuthorizationPolicy in every mesh namespace (injection label
 * "enabled"): created when a namespace joins the mesh and again at every relist, in case it went while
 * the admission webhook, which refuses its deletion, was not there to refuse. Only creates: an existing
 * policy is left alone (409), so RBAC needs nothing but create. Run by the leader only.
 */
export class DefaultDenyController {
  private readonly api: CustomObjectsApi;
  private active = false;
  private readonly onNamespace = (n: NamespaceInfo) => {
    if (this.active && n.labels[this.options.injectionLabel] === 'enabled') void this.ensure(n.name);
  };
  private readonly onSynced = () => {
    for (const n of this.options.namespaces.values()) this.onNamespace(n);
  };

  constructor(private readonly options: DefaultDenyOptions) {
    this.api = options.kc.makeApiClient(CustomObjectsApi);
  }

  start(): void {
    this.active = true;
    this.options.namespaces.on('add', this.onNamespace);
    this.options.namespaces.on('update', this.onNamespace);
    this.options.namespaces.on('synced', this.onSynced);
    this.onSynced();
  }

  stop(): void {
    this.active = false;
    this.options.namespaces.off('add', this.onNamespace);
    this.options.namespaces.off('update', this.onNamespace);
    this.options.namespaces.off('synced', this.onSynced);
  }

  async ensure(namespace: string): Promise<boolean> {
    const body = {
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name: this.options.name, namespace, labels: { 'app.kubernetes.io/managed-by': 'portcullis' } },
      // No selector and no rules: ALLOW nothing, for every workload of the namespace.
      spec: {},
    };
    try {
      await this.api.createNamespacedCustomObject({ group: 'security.istio.io', version: 'v1', namespace, plural: 'authorizationpolicies', body });
      this.options.log.info({ namespace, name: this.options.name }, 'default-deny AuthorizationPolicy created');
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      // A namespace being deleted refuses new objects, and needs no policy any more.
      if (statusOf(err) === 403 && describe(err).includes('is being terminated')) {
        this.options.log.debug({ namespace }, 'namespace is terminating; no default-deny AuthorizationPolicy needed');
        return false;
      }
      // 404 without Istio's CRDs, or a real refusal: reported, tried again at the next relist.
      this.options.log.warn({ namespace, status: statusOf(err), err: describe(err) }, 'could not create the default-deny AuthorizationPolicy');
      return false;
    }
  }
}
