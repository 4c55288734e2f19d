import type { FastifyInstance } from 'fastify';
import type { Context } from '../server/context.js';
import type { Injector } from './injection/injector.js';
import { cheapEnoughInline, INLINE } from './inline-gate.js';
import { creationRequest, judgeRequest, type JudgeDeps } from './judge.js';
import { checkLimits } from './limits.js';
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
  // The body as bytes: its cost is checked before it is parsed.
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.post('/mesh/validate', async (req, reply) => {
    // The dry run is evaluated here, on the main thread, where it cannot be stopped: only what is cheap to judge.
    const body = req.body;
    // Fastify also parses text/plain (as a string); no content type means no body at all.
    if (!Buffer.isBuffer(body)) {
      const type = req.headers['content-type'];
      if (type) return reply.code(415).send({ error: 'unsupported media type', message: `content-type "${type}" is not supported: send the object as application/json` });
      return reply.code(400).send({ error: 'bad request', message: 'the body is empty: send an AdmissionReview or an object as application/json' });
    }
    if (!cheapEnoughInline(body)) {
      return reply.code(413).send({
        error: 'payload too large',
        message: `the dry run takes objects of at most ${INLINE.maxBytes} bytes, ${INLINE.maxMembers} array elements and object members and ${INLINE.maxStringBytes}-byte strings; apply larger ones with kubectl --dry-run=server, which the webhooks judge`,
      });
    }
    let request: AdmissionRequest;
    try {
      let doc: unknown;
      try {
        doc = JSON.parse(body.toString('utf8'));
      } catch (err) {
        throw new ReviewError(`the body is not valid JSON: ${(err as Error).message}`);
      }
      request = parseReview(asReview(doc));
      checkLimits(request, config.limits, config.maxJsonDepth);
    } catch (err) {
      if (!(err instanceof ReviewError)) throw err;
      return reply.code(err.status?.code ?? 400).send({ error: err.status ? 'payload too large' : 'bad request', message: err.message });
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
