import type { FastifyInstance } from 'fastify';
import type { Context } from '../server/context.js';
import type { Injector } from './injection/injector.js';
import { creationRequest, judgeRequest, type JudgeDeps } from './judge.js';
import { API_VERSION, parseReview, ReviewError, type AdmissionRequest } from './review.js';

/**
 * POST /api/v1/mesh/validate: what admission would do with an object (or a whole AdmissionReview), as the
 * API server would do it: mutate (injection and mutation policies), then validate the mutated object, on
 * one policy snapshot. Nothing is recorded or counted: this is a dry run for operators and CI pipelines.
 */
export function meshValidateRoute(app: FastifyInstance, ctx: Context, injector: Injector): void {
  const config = ctx.config.admission;
  const deps: JudgeDeps = {
    injector,
    cluster: ctx.config.cluster,
    entrypoints: { validate: config.violationsEntrypoint, mutate: config.patchesEntrypoint, patchesActive: config.patchesActiveEntrypoint },
    dropManagedFields: false,
  };
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
    const judgement = judgeRequest(snapshot, deps, request, namespace, { mutate: true });
    const mutation = judgement.mutation ?? { allowed: true, injected: false, patch: [] };
    return {
      allowed: judgement.allowed,
      ...(judgement.message !== undefined ? { message: judgement.message } : {}),
      ...(judgement.error !== undefined ? { error: judgement.error } : {}),
      bundles: snapshot.revisions,
      mutation,
      violations: judgement.violations,
      warnings: judgement.warnings,
    };
  });
}

/** An AdmissionReview as it is, or a bare object wrapped in the review of its creation. */
function asReview(body: unknown): unknown {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new ReviewError('the body must be a Kubernetes object or an AdmissionReview, as JSON');
  if ((body as { kind?: unknown }).kind === 'AdmissionReview') return body;
  return { apiVersion: API_VERSION, kind: 'AdmissionReview', request: creationRequest(body, 'portcullis:mesh-validate') };
}
