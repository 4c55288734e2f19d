import type { Snapshot } from '../../policy/engine.js';
import { judgedKind, kindName } from '../kinds.js';
import type { Finding, Judge } from '../verdict.js';
import type { Manifest } from './manifests.js';
import type { EvalNamespaces } from './namespaces.js';

/** What the webhooks would answer for one object of the input. */
export interface EvalResult {
  file: string;
  document: number;
  line: number;
  item?: number;
  apiVersion: string;
  /** "apps/Deployment", as the rules name kinds. */
  kind: string;
  namespace: string;
  name: string;
  /** False for kinds the webhooks are not sent: nothing to say about them. */
  judged: boolean;
  allowed: boolean;
  /** The refusal as kubectl would show it. */
  message?: string;
  /** The decision failed (the webhooks fail closed): a refusal too. */
  error?: string;
  /** Pods: whether the mutating webhook would inject the sidecar, and why (not). */
  injected?: boolean;
  injectionReason?: string;
  violations: Finding[];
  warnings: string[];
  /** The mutating webhook's JSON patch (sidecar and mutation policies). */
  patch?: unknown[];
}

/**
 * Judges every object of the input as the webhooks would judge its CREATE, on one policy snapshot: the
 * mutating webhook first (sidecar injection, mutation policies), then the validating webhook on the
 * mutated object. Objects without a namespace get the default one, as `kubectl apply -n` gives them.
 */
export function evaluate(manifests: Manifest[], judge: Judge, snapshot: Snapshot, namespaces: EvalNamespaces, defaultNamespace: string): EvalResult[] {
  return manifests.map((m) => {
    const apiVersion = m.object.apiVersion as string;
    const kind = m.object.kind as string;
    const metadata = (m.object.metadata ?? {}) as { name?: unknown; generateName?: unknown; namespace?: unknown };
    const judged = judgedKind(apiVersion, kind);
    const namespace = typeof metadata.namespace === 'string' && metadata.namespace !== '' ? metadata.namespace : judged ? defaultNamespace : '';
    const name = typeof metadata.name === 'string' ? metadata.name : typeof metadata.generateName === 'string' ? metadata.generateName : '';
    const where = { file: m.file, document: m.document, line: m.line, ...(m.item !== undefined ? { item: m.item } : {}), apiVersion };
    if (!judged) return { ...where, kind: qualified(apiVersion, kind), namespace, name, judged: false, allowed: true, violations: [], warnings: [] };
    const object = structuredClone(m.object);
    object.metadata = { ...(object.metadata as object | undefined), namespace };
    const j = judge(snapshot, object, namespaces.get(namespace));
    return {
      ...where,
      kind: kindName(judged.group, judged.kind),
      namespace,
      name,
      judged: true,
      allowed: j.allowed,
      ...(j.message !== undefined ? { message: j.message } : {}),
      ...(j.error !== undefined ? { error: j.error } : {}),
      ...(j.mutation && judged.kind === 'Pod' ? { injected: j.mutation.injected, ...(j.mutation.reason ? { injectionReason: j.mutation.reason } : {}) } : {}),
      violations: j.violations.map(({ rule, msg, enforcement, details }) => ({ rule, msg, enforcement, ...(details !== undefined ? { details } : {}) })),
      warnings: j.warnings,
      ...(j.mutation && j.mutation.patch.length > 0 ? { patch: j.mutation.patch } : {}),
    };
  });
}

function qualified(apiVersion: string, kind: string): string {
  const slash = apiVersion.lastIndexOf('/');
  return kindName(slash < 0 ? '' : apiVersion.slice(0, slash), kind);
}
