import type { KubernetesObject } from '@kubernetes/client-node';
import { isNotFound } from './errors.js';
import type { Listed } from './reflector.js';

/**
 * The "list" of a reflector that follows one named object: a get, so RBAC can be limited to that
 * name (get, and watch with fieldSelector metadata.name, both honour resourceNames; list does not).
 */
export function getAsList<T extends KubernetesObject>(get: () => Promise<T>): () => Promise<Listed<T>> {
  return async () => {
    try {
      const object = await get();
      return { items: [object], metadata: { resourceVersion: object.metadata?.resourceVersion ?? '' } };
    } catch (err) {
      // Absent for now: watching without a resourceVersion reports it as ADDED once it is created.
      if (isNotFound(err)) return { items: [], metadata: { resourceVersion: '' } };
      throw err;
    }
  };
}
