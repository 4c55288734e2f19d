import { CoreV1Api, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import { isConflict, isNotFound } from '../kube/errors.js';
import { encodeState, type CertState } from './state.js';

export interface StoredSecret {
  secret: V1Secret;
  resourceVersion: string;
}

/**
 * The certificate Secret, written only with optimistic concurrency: created once (the first of several
 * replicas starting together wins, the others get 409 and read the winner's), replaced only with the
 * resourceVersion the writer read, so a rotation based on stale state fails instead of clobbering.
 */
export class CertSecret {
  readonly api: CoreV1Api;

  constructor(
    kc: KubeConfig,
    readonly namespace: string,
    readonly name: string,
  ) {
    this.api = kc.makeApiClient(CoreV1Api);
  }

  read(): Promise<V1Secret> {
    return this.api.readNamespacedSecret({ name: this.name, namespace: this.namespace });
  }

  /** The Secret, created from fresh() when there is none; whoever loses the creation race reads the winner's. */
  async ensure(fresh: () => CertState): Promise<{ secret: V1Secret; created: boolean }> {
    try {
      return { secret: await this.read(), created: false };
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const body: V1Secret = {
      metadata: { name: this.name, namespace: this.namespace, labels: { 'app.kubernetes.io/name': 'portcullis', 'app.kubernetes.io/component': 'webhook-certificate' } },
      type: 'kubernetes.io/tls',
      data: encodeState(fresh()),
    };
    try {
      return { secret: await this.api.createNamespacedSecret({ namespace: this.namespace, body }), created: true };
    } catch (err) {
      if (!isConflict(err)) throw err;
      return { secret: await this.read(), created: false };
    }
  }

  /** Writes state over the version read; throws the API's 409 when someone wrote in between. */
  async replace(secret: V1Secret, state: CertState): Promise<V1Secret> {
    const body: V1Secret = { ...secret, data: { ...secret.data, ...encodeState(state) } };
    return this.api.replaceNamespacedSecret({ name: this.name, namespace: this.namespace, body });
  }
}
