import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Context } from '../server/context.js';
import type { Injector } from './injection/injector.js';
import { applyPatch } from './json-patch.js';
import { mutate } from './mutate.js';
import type { PolicyInput } from './outcome.js';
import { API_VERSION, parseReview, ReviewError, type AdmissionRequest } from './review.js';
import { validate } from './validate.js';

/**
 * POST /api/v1/mesh/validate: what admission would do with an object (or a whole AdmissionReview), as the
 * API server would do it: mutate (injection and mutation policies), then validate the mutated object, on
 * one policy snapshot. Nothing is recorded or counted: this is a dry run for operators and CI pipelines.
 */
export function meshValidateRoute(app: FastifyInstance, ctx: Context, injector: Injector): void {
  const config = ctx.config.admission;
  app.post('/mesh/validate', async (req, reply) => {
    let request: AdmissionRequest;
    try {
      request = parseReview(asReview(req.body));
    } catch (err) {
      if (!(err instanceof ReviewError)) throw err;
      return reply.code(400).send({ error: 'bad request', message: err.message });
    }
    const snapshot = ctx.engine.current();
    // A namespace the informers have not seen yet is read, as the webhooks would; one that cannot be read is unknown.
    const namespace = request.namespace ? (ctx.facts.namespace(request.namespace) ?? (await ctx.facts.lookupNamespace?.(request.namespace).catch(() => null)) ?? null) : null;
    const context: PolicyInput['context'] = { namespace, cluster: ctx.config.cluster };
    const mutation = mutate(snapshot, { mutate: config.patchesEntrypoint, patchesActive: config.patchesActiveEntrypoint }, injector, { request, context });
    const injection = mutation.result as { injected?: boolean; reason?: string } | undefined;
    // mutate() checked that the operations apply (the policies') or made them for this object (the sidecar's).
    const mutated = mutation.ops.length > 0 && request.object ? (applyPatch(request.object, mutation.ops) as Record<string, unknown>) : undefined;
    const validation = validate(snapshot, config.violationsEntrypoint, { request: mutated ? { ...request, object: mutated } : request, context });
    const refusal = [mutation, validation].find((o) => !o.response.allowed);
    return {
      allowed: refusal === undefined,
      ...(refusal?.response.status ? { message: refusal.response.status.message } : {}),
      ...(mutation.error || validation.error ? { error: mutation.error ?? validation.error } : {}),
      bundles: snapshot.revisions,
      mutation: {
        allowed: mutation.response.allowed,
        injected: injection?.injected ?? false,
        ...(injection?.reason ? { reason: injection.reason } : {}),
        patch: mutation.ops,
      },
      violations: validation.violations,
      warnings: validation.response.warnings ?? [],
    };
  });
}

/** An AdmissionReview as it is, or a bare object wrapped in the review of its creation. */
function asReview(body: unknown): unknown {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new ReviewError('the body must be a Kubernetes object or an AdmissionReview, as JSON');
  const doc = body as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
  if (doc.kind === 'AdmissionReview') return body;
  if (typeof doc.apiVersion !== 'string' || doc.apiVersion === '' || typeof doc.kind !== 'string' || doc.kind === '') {
    throw new ReviewError('the object needs apiVersion and kind (e.g. {"apiVersion": "v1", "kind": "Pod", ...}), or send an AdmissionReview');
  }
  if (doc.metadata !== undefined && (doc.metadata === null || typeof doc.metadata !== 'object')) throw new ReviewError('metadata must be an object');
  const slash = doc.apiVersion.lastIndexOf('/');
  const group = slash < 0 ? '' : doc.apiVersion.slice(0, slash);
  const version = doc.apiVersion.slice(slash + 1);
  const name = typeof doc.metadata?.name === 'string' ? doc.metadata.name : undefined;
  const namespace = typeof doc.metadata?.namespace === 'string' ? doc.metadata.namespace : undefined;
  return {
    apiVersion: API_VERSION,
    kind: 'AdmissionReview',
    request: {
      uid: randomUUID(),
      kind: { group, version, kind: doc.kind },
      resource: { group, version, resource: `${doc.kind.toLowerCase()}s` },
      ...(name ? { name } : {}),
      ...(namespace ? { namespace } : {}),
      operation: 'CREATE',
      userInfo: { username: 'portcullis:mesh-validate' },
      object: body,
      oldObject: null,
      dryRun: true,
      options: null,
    },
  };
}
