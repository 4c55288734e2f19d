import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { serverTlsOptions, type TlsMaterial } from '../certs/provider.js';
import type { Context, Listener } from '../server/context.js';
import { account, type Webhook } from './account.js';
import { meshValidateRoute } from './api.js';
import { Injector } from './injection/injector.js';
import { mutate } from './mutate.js';
import { failure, type Outcome, type PolicyInput } from './outcome.js';
import { API_VERSION, dropManagedFields, parseReview, ReviewError, type AdmissionRequest } from './review.js';
import { validate } from './validate.js';

/**
 * The admission front door: the API server's HTTPS webhook endpoints /validate and /mutate, and probes.
 * Every request ends in an answer and an audit event, whatever it carried: a malformed review gets a 400
 * (or, when it has a uid, a denial the API server shows), a policy failure gets a denial (fail closed).
 */
export async function startAdmission(ctx: Context): Promise<Listener> {
  const config = ctx.config.admission;
  const injector = new Injector(config.injection, ctx.config.cluster, ctx.log.child({ component: 'injection' }));
  await injector.start();

  const app = Fastify({
    https: serverTlsOptions(ctx.tls.current(), ctx.config.tls.minVersion),
    bodyLimit: config.maxBodyBytes,
    // The API server keeps connections open between calls; outlive its idle timeout (90s) so it is the one closing.
    keepAliveTimeout: 95_000,
    logger: false,
    return503OnClosing: true,
  });
  // JSON only (anything else is a 415), and JSON.parse's own message says where the body breaks.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch (err) {
      done(Object.assign(err as Error, { statusCode: 400 }), undefined);
    }
  });
  // The handler's time starts before the body is read and parsed: that is part of the cost of a decision.
  const started = new WeakMap<FastifyRequest, bigint>();
  app.addHook('onRequest', (req, _reply, done) => {
    started.set(req, process.hrtime.bigint());
    done();
  });
  const elapsedNs = (req: FastifyRequest) => Number(process.hrtime.bigint() - (started.get(req) ?? process.hrtime.bigint()));
  const rotate = (m: TlsMaterial) => app.server.setSecureContext(serverTlsOptions(m, ctx.config.tls.minVersion));
  ctx.tls.on('change', rotate);

  const entrypoints: Record<Webhook, string> = { validate: config.violationsEntrypoint, mutate: config.patchesEntrypoint };
  const contextOf = (request: AdmissionRequest): PolicyInput['context'] => ({
    namespace: request.namespace ? ctx.facts.namespace(request.namespace) : null,
    cluster: ctx.config.cluster,
  });

  const handle = (webhook: Webhook) => async (req: FastifyRequest, reply: FastifyReply) => {
    const decisionId = randomUUID();
    const snapshot = ctx.engine.current();
    let request: AdmissionRequest;
    try {
      request = parseReview(req.body);
    } catch (err) {
      if (!(err instanceof ReviewError)) throw err;
      return malformed(webhook, req, reply, err, decisionId, snapshot.bundles);
    }
    if (config.dropManagedFields) dropManagedFields(request);
    const input: PolicyInput = { request, context: contextOf(request) };
    let outcome: Outcome;
    try {
      outcome = webhook === 'validate' ? validate(snapshot, entrypoints.validate, input) : mutate(snapshot, entrypoints.mutate, injector, input);
    } catch (err) {
      ctx.log.error({ err, uid: request.uid, webhook }, 'admission decision failed');
      outcome = failure(entrypoints[webhook], `internal error: ${(err as Error).message}`, input);
    }
    const response = { ...outcome.response, uid: request.uid, auditAnnotations: { ...outcome.response.auditAnnotations, 'decision-id': decisionId } };
    account(ctx, { webhook, decisionId, request, outcome: { ...outcome, allowed: response.allowed }, bundles: snapshot.bundles, handlerNs: elapsedNs(req) });
    return reply.send({ apiVersion: API_VERSION, kind: 'AdmissionReview', response });
  };

  /** A review that cannot be decided: in kind when the API server can be answered (a uid), else a plain 400. */
  const malformed = (webhook: Webhook, req: FastifyRequest, reply: FastifyReply, err: ReviewError, decisionId: string, bundles: Readonly<Record<string, { revision: string }>>) => {
    const message = err.message;
    account(ctx, {
      webhook,
      decisionId,
      request: undefined,
      outcome: { decision: 'error', error: message, path: entrypoints[webhook], violations: [], evaluations: [], allowed: false, ...(err.uid ? { result: { uid: err.uid } } : {}) },
      bundles,
      handlerNs: elapsedNs(req),
    });
    ctx.log.warn({ webhook, err: message, remote: req.ip }, 'malformed admission review');
    if (err.uid === undefined) return reply.code(400).send({ error: 'bad request', message });
    return reply.send({
      apiVersion: API_VERSION,
      kind: 'AdmissionReview',
      response: { uid: err.uid, allowed: false, status: { status: 'Failure', code: 400, reason: 'BadRequest', message }, auditAnnotations: { 'decision-id': decisionId } },
    });
  };

  // Bodies that never reach a handler (not JSON, too large, wrong media type) are decisions too.
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    const message =
      err.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        ? `the body is larger than the limit of ${config.maxBodyBytes} bytes (admission.maxBodyBytes)`
        : err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
          ? `content-type ${JSON.stringify(req.headers['content-type'] ?? '')} is not supported: send application/json`
          : err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError
            ? `the body is not valid JSON: ${err.message}`
            : status === 500
              ? 'internal error'
              : err.message;
    if (status === 500) ctx.log.error({ err, url: req.url }, 'admission request failed');
    const webhook = webhookOf(req.url);
    if (webhook) {
      account(ctx, {
        webhook,
        decisionId: randomUUID(),
        request: undefined,
        outcome: { decision: 'error', error: message, path: entrypoints[webhook], violations: [], evaluations: [], allowed: false },
        bundles: ctx.engine.current().bundles,
        handlerNs: elapsedNs(req),
      });
    }
    return reply.code(status).send({ error: status === 500 ? 'internal' : 'bad request', message });
  });

  app.post('/validate', handle('validate'));
  app.post('/mutate', handle('mutate'));
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const checks = {
      bundle: ctx.engine.current().has(config.violationsEntrypoint),
      certificate: certificateValid(ctx),
      template: injector.revision !== undefined,
      draining: ctx.draining(),
    };
    const ready = checks.bundle && checks.certificate && checks.template && !checks.draining;
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
  });

  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    ctx.tls.off('change', rotate);
    injector.stop();
    throw err;
  }
  const port = (app.server.address() as { port: number }).port;
  return {
    name: 'admission',
    port,
    api: (admin) => meshValidateRoute(admin, ctx, injector),
    async close() {
      ctx.tls.off('change', rotate);
      injector.stop();
      await app.close();
    },
  };
}

function webhookOf(url: string): Webhook | undefined {
  const path = url.split('?')[0];
  return path === '/validate' ? 'validate' : path === '/mutate' ? 'mutate' : undefined;
}

function certificateValid(ctx: Context): boolean {
  try {
    return ctx.tls.current().notAfter.getTime() > Date.now();
  } catch {
    return false;
  }
}
