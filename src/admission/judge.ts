import { randomUUID } from 'node:crypto';
import type { NamespaceInfo } from '../facts/facts.js';
import type { Snapshot } from '../policy/engine.js';
import type { Injector } from './injection/injector.js';
import { applyPatch, type PatchOp } from './json-patch.js';
import { mutate, type MutateEntrypoints } from './mutate.js';
import type { PolicyInput } from './outcome.js';
import { dropManagedFields, ReviewError, type AdmissionRequest } from './review.js';
import { validate } from './validate.js';
import type { Violation } from './violations.js';

export interface JudgeDeps {
  /**
   * Injects when judging with mutation, and checks a Pod's claim to carry its sidecar either way, as the
   * validating webhook does (without it the sidecar's containers are judged as the Pod author's own).
   */
  injector: Injector;
  cluster: PolicyInput['context']['cluster'];
  entrypoints: { validate: string } & MutateEntrypoints;
  dropManagedFields: boolean;
}

/** What the two webhooks would answer for one request, without recording or counting anything. */
export interface Judgement {
  allowed: boolean;
  /** The refusal the API server would show (the first webhook's that refuses). */
  message?: string;
  /** The decision failed (no bundle, a policy error): the webhooks fail closed. */
  error?: string;
  mutation?: { allowed: boolean; injected: boolean; reason?: string; patch: PatchOp[] };
  violations: Violation[];
  warnings: string[];
  /** The validating webhook's policy input. */
  input: PolicyInput;
  evalNs: number;
}

/**
 * A dry run of admission for one request, on one policy snapshot: with `mutate`, the mutating webhook first
 * (injection, mutation policies) and the validating webhook on the mutated object, as the API server calls
 * them; without, the validating webhook on the object as it is (an object already stored: its mutation
 * happened when it was created).
 */
export function judgeRequest(snapshot: Snapshot, deps: JudgeDeps, request: AdmissionRequest, namespace: NamespaceInfo | null, options: { mutate: boolean }): Judgement {
  if (deps.dropManagedFields) dropManagedFields(request);
  const context: PolicyInput['context'] = { namespace, cluster: deps.cluster };
  let evalNs = 0;
  let mutation: ReturnType<typeof mutate> | undefined;
  let mutated: Record<string, unknown> | undefined;
  if (options.mutate) {
    mutation = mutate(snapshot, deps.entrypoints, deps.injector, { request, context });
    for (const e of mutation.evaluations) evalNs += e.ns;
    // mutate() checked that the operations apply (the policies') or made them for this object (the sidecar's).
    if (mutation.ops.length > 0 && request.object) mutated = applyPatch(request.object, mutation.ops) as Record<string, unknown>;
  }
  const validated = mutated ? { ...request, object: mutated } : request;
  const input = deps.injector.withClaim({ request: validated, context });
  const validation = validate(snapshot, deps.entrypoints.validate, input);
  for (const e of validation.evaluations) evalNs += e.ns;
  const refusal = [mutation, validation].find((o) => o !== undefined && !o.response.allowed);
  const injection = mutation?.result as { injected?: boolean; reason?: string } | undefined;
  const error = mutation?.error ?? validation.error;
  return {
    allowed: refusal === undefined,
    ...(refusal?.response.status ? { message: refusal.response.status.message } : {}),
    ...(error !== undefined ? { error } : {}),
    ...(mutation
      ? { mutation: { allowed: mutation.response.allowed, injected: injection?.injected ?? false, ...(injection?.reason ? { reason: injection.reason } : {}), patch: mutation.ops } }
      : {}),
    violations: validation.violations,
    warnings: validation.response.warnings ?? [],
    input,
    evalNs,
  };
}

/**
 * The request of an object's creation, as the API server would send it: `object` must be a Kubernetes
 * object (apiVersion, kind, metadata an object if present); anything else is a ReviewError saying why.
 */
export function creationRequest(object: unknown, username: string): AdmissionRequest {
  if (object === null || typeof object !== 'object' || Array.isArray(object)) throw new ReviewError('a Kubernetes object must be an object (a JSON object or a YAML mapping)');
  const doc = object as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown; generateName?: unknown; namespace?: unknown } };
  if (typeof doc.apiVersion !== 'string' || doc.apiVersion === '' || typeof doc.kind !== 'string' || doc.kind === '') {
    throw new ReviewError('the object needs apiVersion and kind (e.g. {"apiVersion": "v1", "kind": "Pod", ...})');
  }
  if (doc.metadata !== undefined && (doc.metadata === null || typeof doc.metadata !== 'object' || Array.isArray(doc.metadata))) throw new ReviewError('metadata must be an object');
  for (const field of ['name', 'generateName', 'namespace'] as const) {
    const value = doc.metadata?.[field];
    if (value !== undefined && typeof value !== 'string') throw new ReviewError(`metadata.${field} must be a string`);
  }
  const slash = doc.apiVersion.lastIndexOf('/');
  const group = slash < 0 ? '' : doc.apiVersion.slice(0, slash);
  const version = doc.apiVersion.slice(slash + 1);
  const name = doc.metadata?.name as string | undefined;
  const namespace = doc.metadata?.namespace as string | undefined;
  return {
    uid: randomUUID(),
    kind: { group, version, kind: doc.kind },
    resource: { group, version, resource: guessResource(doc.kind) },
    ...(name ? { name } : {}),
    ...(namespace ? { namespace } : {}),
    operation: 'CREATE',
    userInfo: { username },
    object: object as Record<string, unknown>,
    oldObject: null,
    dryRun: true,
    options: null,
  };
}

/** The plural resource of a kind the way Kubernetes guesses it (meta.UnsafeGuessKindToResource): Pod → pods, AuthorizationPolicy → authorizationpolicies. */
export function guessResource(kind: string): string {
  const lower = kind.toLowerCase();
  if (lower.endsWith('s')) return `${lower}es`;
  if (lower.endsWith('y')) return `${lower.slice(0, -1)}ies`;
  return `${lower}s`;
}
