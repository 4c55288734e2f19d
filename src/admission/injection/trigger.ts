import type { NamespaceInfo } from '../../facts/facts.js';
import type { Pod } from './pod.js';

const NAMESPACE_LABEL = 'portcullis.io/injection';
const POD_LABEL = 'sidecar.portcullis.io/inject';
export const STATUS_ANNOTATION = 'sidecar.portcullis.io/status';

/** Istio's names for the same things: where Istio injects its proxy, Portcullis does not inject a second one. */
const ISTIO = {
  namespaceLabel: 'istio-injection',
  revisionLabel: 'istio.io/rev',
  podLabel: 'sidecar.istio.io/inject',
  status: 'sidecar.istio.io/status',
  proxy: 'istio-proxy',
};

/** Namespaces of the control plane itself: a sidecar there could cut the cluster off from its own API. */
const SYSTEM_NAMESPACES = ['kube-system', 'kube-public'];

/** Why a Pod is never injected whatever it or its namespace asks (rule 1 below), or undefined. */
export function neverInjected(pod: Pod, namespace: string, excluded: readonly string[]): string | undefined {
  if (SYSTEM_NAMESPACES.includes(namespace) || excluded.includes(namespace)) return `namespace ${namespace} is never injected`;
  if (pod.spec.hostNetwork === true) return 'hostNetwork Pods are never injected';
  return undefined;
}

export type Trigger =
  | { inject: true; reason: string }
  | { inject: false; reason: string }
  /** Injection is asked for and the Pod says it already happened: the injector checks that claim. */
  | { inject: false; reason: string; injectedBefore: string }
  | { invalid: string };

/**
 * Whether a new Pod gets the sidecar. Precedence, first match wins:
 *   1. never: kube-system, kube-public and configured namespaces; hostNetwork Pods (redirecting the
 *      node's traffic would break the node)
 *   2. never where Istio injects its own proxy: the Pod has it already (istio-proxy, sidecar.istio.io/status),
 *      asks for it (label sidecar.istio.io/inject=true), or is in a namespace Istio injects (istio-injection=enabled,
 *      or an istio.io/rev label without istio-injection=disabled) and does not opt out of it
 *   3. the Pod label sidecar.portcullis.io/inject: "true" injects, "false" does not, whatever the namespace says
 *   4. the namespace label portcullis.io/injection=enabled injects; anything else does not
 * A Pod that would be injected but carries the status annotation (a reinvocation, a copy of a running Pod,
 * or an author's claim) is not injected twice: the injector checks it holds the sidecar instead.
 */
export function injectionTrigger(pod: Pod, namespace: string, ns: NamespaceInfo | null, excluded: readonly string[]): Trigger {
  const never = neverInjected(pod, namespace, excluded);
  if (never) return { inject: false, reason: never };
  const istio = istioInjects(pod, ns);
  if (istio) return { inject: false, reason: istio };
  const label = pod.metadata?.labels?.[POD_LABEL];
  if (label === 'false') return { inject: false, reason: `Pod label ${POD_LABEL}=false` };
  if (label !== undefined && label !== 'true') return { invalid: `label ${POD_LABEL} must be "true" or "false", got ${JSON.stringify(label)}` };
  if (label === undefined && ns?.labels[NAMESPACE_LABEL] !== 'enabled') {
    return { inject: false, reason: `neither the namespace (${NAMESPACE_LABEL}=enabled) nor the Pod (${POD_LABEL}=true) asks for injection` };
  }
  const reason = label === 'true' ? `Pod label ${POD_LABEL}=true` : `namespace label ${NAMESPACE_LABEL}=enabled`;
  const status = pod.metadata?.annotations?.[STATUS_ANNOTATION];
  if (status !== undefined) return { inject: false, reason: `already injected (${STATUS_ANNOTATION} is set)`, injectedBefore: status };
  return { inject: true, reason };
}

/** Why Istio puts its own proxy into this Pod, or undefined. */
function istioInjects(pod: Pod, ns: NamespaceInfo | null): string | undefined {
  if (pod.metadata?.annotations?.[ISTIO.status] !== undefined || [...pod.spec.containers, ...(pod.spec.initContainers ?? [])].some((c) => c.name === ISTIO.proxy)) {
    return "Istio's proxy is in the Pod already";
  }
  const label = pod.metadata?.labels?.[ISTIO.podLabel];
  if (label === 'true') return `Istio injects its proxy (Pod label ${ISTIO.podLabel}=true)`;
  if (label === 'false' || !ns) return undefined;
  if (ns.labels[ISTIO.namespaceLabel] === 'enabled') return `Istio injects its proxy in namespace ${ns.name} (label ${ISTIO.namespaceLabel}=enabled)`;
  if (ns.labels[ISTIO.revisionLabel] !== undefined && ns.labels[ISTIO.namespaceLabel] !== 'disabled') return `Istio injects its proxy in namespace ${ns.name} (label ${ISTIO.revisionLabel})`;
  return undefined;
}
