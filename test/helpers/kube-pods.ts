// Pods and refusals as the end-to-end admission tests send and read them through the API server.
import { ApiException, type V1Pod } from '@kubernetes/client-node';

/** A Pod every built-in rule accepts (labels, its own service account, an allowed pinned image), changed by `edit`. */
export function compliantPod(name: string, edit: (p: V1Pod) => void = () => {}): V1Pod {
  const p: V1Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: 'web', version: 'v1' } },
    spec: {
      serviceAccountName: 'web',
      automountServiceAccountToken: false,
      containers: [{ name: 'web', image: 'registry.example.com/web:1.4.2', securityContext: { allowPrivilegeEscalation: false } }],
    },
  };
  edit(p);
  return p;
}

/** How many proxies the Pod holds (0, or 1 once injected). */
export const proxies = (p: V1Pod): number => (p.spec?.containers ?? []).filter((c) => c.name === 'portcullis-proxy').length;

/** Undefined when the call succeeded, else the API server's code and body (the webhook's message is in it). */
export function refusal(promise: Promise<unknown>): Promise<{ code: number; body: string } | undefined> {
  return promise.then(
    () => undefined,
    (err: unknown) => (err instanceof ApiException ? { code: err.code, body: typeof err.body === 'string' ? err.body : JSON.stringify(err.body) } : { code: 0, body: String(err) }),
  );
}
