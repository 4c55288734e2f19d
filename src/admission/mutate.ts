import type { Snapshot } from '../policy/engine.js';
import type { Injector } from './injection/injector.js';
import { applyPatch, asPatch, type PatchOp } from './json-patch.js';
import { badRequest, failure, nowNs, type Outcome, type PolicyInput } from './outcome.js';
import { noBundle } from './validate.js';

export interface MutateEntrypoints {
  /** RFC 6902 operations of the mutation policies. */
  mutate: string;
  /** Data-only boolean: false when the bundle has no mutation policy configured. */
  patchesActive: string;
}

export interface Mutation extends Outcome {
  /** Every operation returned, sidecar first, then the mutation policies'. */
  ops: PatchOp[];
}

/**
 * The mutating webhook: sidecar injection for new Pods, then the optional operations of the patches
 * entrypoint, evaluated on the injected object so they compose with it. The policies' operations are
 * applied here once, so one that would not apply is refused with a message instead of an opaque API server
 * error; the sidecar's are made for this very object (the tests apply them), so while no mutation policy is
 * active the injected Pod is never built: a deep copy of the Pod per review that nothing would read.
 */
export function mutate(snapshot: Snapshot, entrypoints: MutateEntrypoints, injector: Injector, input: PolicyInput): Mutation {
  const entrypoint = entrypoints.mutate;
  const { request } = input;
  const original = request.object;
  if ((request.operation !== 'CREATE' && request.operation !== 'UPDATE') || !original) {
    return { response: { allowed: true }, decision: 'allow', path: entrypoint, input, result: { patch: [] }, violations: [], evaluations: [], ops: [] };
  }
  // Fail closed like the validating webhook: without a policy nothing is admitted, mutated or not.
  if (Object.keys(snapshot.revisions).length === 0) return unchanged(failure(entrypoint, noBundle(snapshot, entrypoint), input));

  let injection;
  try {
    injection = injector.plan(request, original, input.context.namespace);
  } catch (err) {
    return unchanged(failure(entrypoint, `sidecar injection failed: ${(err as Error).message}`, input));
  }
  if ('denied' in injection) return unchanged(badRequest(entrypoint, injection.denied, input));

  const evaluations: Outcome['evaluations'] = [];
  let policyOps: PatchOp[] = [];
  // The patches entrypoint is optional: a bundle without mutation policies only gets the sidecar, and so does
  // one that says none is configured (its data-only `active` entrypoint is false), without the evaluation.
  if (snapshot.has(entrypoint) && snapshot.dataValue(entrypoints.patchesActive) !== false) {
    const injected = injection.injected ? applyPatch(original, injection.ops) : original;
    const policyInput = injection.injected ? { request: { ...request, object: injected as Record<string, unknown> }, context: input.context } : input;
    const start = nowNs();
    try {
      const value = snapshot.evaluate(entrypoint, policyInput);
      evaluations.push({ entrypoint, ns: Number(nowNs() - start) });
      policyOps = value === undefined ? [] : asPatch(value);
      applyPatch(injected, policyOps);
    } catch (err) {
      if (evaluations.length === 0) evaluations.push({ entrypoint, ns: Number(nowNs() - start) });
      return unchanged(failure(entrypoint, `mutation policy: ${(err as Error).message}`, input, evaluations));
    }
  }

  const ops = injection.injected ? [...injection.ops, ...policyOps] : policyOps;
  return {
    response: {
      allowed: true,
      ...(ops.length > 0 ? { patch: Buffer.from(JSON.stringify(ops)).toString('base64'), patchType: 'JSONPatch' as const } : {}),
      auditAnnotations: { 'sidecar-injected': String(injection.injected), 'injection-reason': injection.reason, ...(policyOps.length > 0 ? { 'policy-patches': String(policyOps.length) } : {}) },
    },
    decision: 'allow',
    path: entrypoint,
    input,
    // The sidecar's operations by path only: their values follow from the template revision and the Pod
    // (both recorded), and leaving them out halves what the audit log masks and hashes per Pod.
    result: {
      injected: injection.injected,
      reason: injection.reason,
      ...(injection.injected ? { template: injection.status.template, sidecar: injection.ops.map((o) => `${o.op} ${o.path}`) } : {}),
      patches: policyOps,
    },
    violations: [],
    evaluations,
    ops,
  };
}

function unchanged(outcome: Outcome): Mutation {
  return { ...outcome, ops: [] };
}
