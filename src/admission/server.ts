import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { createServer } from 'node:https';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { limitConnections, serverOptions, tooManyHeaders } from '../net/http-limits.js';
import { serverTlsOptions, type TlsMaterial } from '../certs/provider.js';
import type { Context, Listener } from '../server/context.js';
import { Masker } from '../audit/mask.js';
import { account } from './account.js';
import { describe } from '../kube/errors.js';
import { decide, type Decision, type DecideDeps, type NamespaceRead, type UnknownNamespace, type Webhook } from './decide.js';
import { meshValidateRoute } from './api.js';
import { Injector } from './injection/injector.js';
import { failure } from './outcome.js';
import { findRequestUid } from './request-uid.js';
import { API_VERSION } from './review.js';
import { compileDeclaredSchemas } from '../schema/validator.js';
import { cheapEnoughInline, InlineGate } from './inline-gate.js';
import { DecisionWorkers, type Undecided, type WorkerAnswer } from './workers.js';

/**
 * The admission front door: the API server's HTTPS webhook endpoints /validate and /mutate, and probes.
 * Every request ends in an answer and an audit event, whatever it carried: a malformed review gets a 400
 * (or, when it has a uid, a denial the API server shows), a policy failure gets a denial (fail closed).
 */
export async function startAdmission(ctx: Context): Promise<Listener> {
  const config = ctx.config.admission;
  const injector = new Injector(config.injection, ctx.config.cluster, ctx.log.child({ component: 'injection' }));
  await injector.start();
  compileDeclaredSchemas();
  // The proxies it injects check the SDS server against the mesh trust bundle as it is when they are created.
  const trust = (m: TlsMaterial) => injector.setTrustBundle(m.ca ?? '');
  trust(ctx.tls.current());
  ctx.tls.on('change', trust);

  const { connections } = config;
  const app = Fastify({
    // Our own server, for what Fastify does not set: the TLS handshake and header timeouts, the connection bound.
    serverFactory: (handler) => {
      const server = createServer({ ...serverTlsOptions(ctx.tls.current(), ctx.config.tls.minVersion), ...serverOptions(connections) }, handler);
      limitConnections(server, connections);
      return server;
    },
    bodyLimit: config.maxBodyBytes,
    logger: false,
    return503OnClosing: true,
  });
  // JSON only (anything else is a 415); decide() parses it, on a worker thread when there are some.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  // The handler's time starts before the body is read and parsed: that is part of the cost of a decision.
  // A request field, not a WeakMap: every young key in an old WeakMap is work for each minor GC.
  app.decorateRequest('receivedNs', 0n);
  let inFlightBytes = 0;
  app.addHook('onRequest', (req, reply, done) => {
    req.receivedNs = process.hrtime.bigint();
    if (tooManyHeaders(req.raw, connections)) return done(refusal(431, `the request has more than ${connections.maxHeaders} header fields (admission.connections.maxHeaders)`));
    if (req.method !== 'POST') return done();
    // Bodies wait here while workers decide: their bytes in flight are bounded, so memory is.
    const declared = Number(req.headers['content-length']);
    const bytes = req.headers['content-length'] !== undefined && declared >= 0 ? Math.min(declared, config.maxBodyBytes) : config.maxBodyBytes;
    if (inFlightBytes > 0 && inFlightBytes + bytes > config.maxInFlightBytes) {
      reply.header('retry-after', '1').header('connection', 'close');
      return done(refusal(429, `${inFlightBytes} bytes of reviews are already being received or decided, and this one would pass admission.maxInFlightBytes (${config.maxInFlightBytes}): try again`));
    }
    inFlightBytes += bytes;
    reply.raw.once('close', () => (inFlightBytes -= bytes));
    done();
  });
  const elapsedNs = (req: FastifyRequest) => (req.receivedNs ? Number(process.hrtime.bigint() - req.receivedNs) : 0);
  const rotate = (m: TlsMaterial) => app.server.setSecureContext(serverTlsOptions(m, ctx.config.tls.minVersion));
  ctx.tls.on('change', rotate);

  const entrypoints: DecideDeps['entrypoints'] = { validate: config.violationsEntrypoint, mutate: config.patchesEntrypoint, patchesActive: config.patchesActiveEntrypoint };
  const mask = ctx.config.audit.includeInput ? ctx.config.audit.mask : undefined;
  const inline: Omit<DecideDeps, 'snapshot'> = {
    injector,
    namespace: (name) => ctx.facts.namespace(name) ?? (ctx.facts.lookupNamespace ? undefined : null),
    cluster: ctx.config.cluster,
    entrypoints,
    dropManagedFields: config.dropManagedFields,
    maxJsonDepth: config.maxJsonDepth,
    limits: config.limits,
    masker: mask ? new Masker(mask) : undefined,
  };
  const workers = new DecisionWorkers(
    ctx,
    {
      injection: config.injection,
      cluster: ctx.config.cluster,
      entrypoints,
      dropManagedFields: config.dropManagedFields,
      maxJsonDepth: config.maxJsonDepth,
      limits: config.limits,
      mask,
      maxMemoryPages: ctx.config.policy.maxMemoryPages,
      recycleBytes: config.workerRecycleBytes,
      lookups: ctx.facts.lookupNamespace !== undefined,
    },
    { count: config.workers, timeoutMs: config.timeoutMs },
  );
  // Started now, not waited for (small reviews are decided here meanwhile; /readyz waits for one) unless
  // every decision needs one: then the door opens once one is up.
  const starting = workers.start();
  if (config.inlineWhenIdle) starting.catch(() => undefined);
  else {
    try {
      await starting;
    } catch (err) {
      await workers.close();
      injector.stop();
      throw err;
    }
  }

  const gate = config.inlineWhenIdle ? new InlineGate() : undefined;
  /**
   * Here while the main thread has time to spare and the review is small enough that no policy can take
   * long on it (an evaluation here cannot be stopped); everything else on a worker, under the deadline.
   */
  const decideSomewhere = async (webhook: Webhook, body: Uint8Array, read?: NamespaceRead): Promise<WorkerAnswer> => {
    // A busy main thread hands even small reviews over, unless no worker is up (yet, or again).
    if (gate && (gate.inline || workers.running() === 0) && cheapEnoughInline(body)) return decide(webhook, body, { ...inline, snapshot: ctx.engine.current() }, read);
    return workers.decide(webhook, body, read);
  };
  /** The rare second pass: the informers had not seen the review's namespace, so it is read from the API server first. */
  const decideAfterRead = async (webhook: Webhook, unknown: UnknownNamespace): Promise<Decision | Undecided> => {
    const read: NamespaceRead = {};
    try {
      const found = await ctx.facts.lookupNamespace?.(unknown.namespace);
      ctx.log.info({ namespace: unknown.namespace, found: found !== null }, 'namespace read from the API server: the informer had not seen it yet');
    } catch (err) {
      read.error = describe(err);
      ctx.log.warn({ namespace: unknown.namespace, err: read.error }, 'namespace unknown to the informer and not readable: the review fails closed');
    }
    const again = await decideSomewhere(webhook, unknown.body, read);
    if (again.kind === 'unknown-namespace') throw new Error(`namespace ${unknown.namespace} still unknown after reading it`);
    return again;
  };
  const handle = (webhook: Webhook) => async (req: FastifyRequest, reply: FastifyReply) => {
    const body = req.body;
    // No content-type (so no parser ran) and no body: nothing to decide.
    if (!(body instanceof Uint8Array)) return malformed(webhook, req, reply, { kind: 'malformed', decisionId: randomUUID(), message: 'the body is empty: send an AdmissionReview as application/json', bundles: ctx.engine.current().bundles });
    let decision = await decideSomewhere(webhook, body);
    if (decision.kind === 'unknown-namespace') decision = await decideAfterRead(webhook, decision);
    if (decision.kind === 'undecided') return undecided(webhook, req, reply, decision);
    if (decision.kind === 'malformed') return malformed(webhook, req, reply, decision);
    if (decision.internalError) ctx.log.error({ err: decision.internalError, uid: decision.request.uid, webhook }, 'admission decision failed');
    account(ctx, {
      webhook,
      decisionId: decision.decisionId,
      request: decision.request,
      outcome: decision.outcome,
      ...(decision.input ? { input: decision.input } : {}),
      bundles: decision.bundles,
      handlerNs: elapsedNs(req),
    });
    return reply.type('application/json; charset=utf-8').send(decision.reply);
  };

  /** A review that cannot be decided: in kind when the API server can be answered (a uid), else a plain 400. */
  const malformed = (webhook: Webhook, req: FastifyRequest, reply: FastifyReply, err: Extract<Decision, { kind: 'malformed' }>) => {
    const { message, bundles, decisionId } = err;
    account(ctx, {
      webhook,
      decisionId,
      // Only the uid is known to be what it claims; it joins the event to the API server's record of the call.
      request: err.uid ? { uid: err.uid } : undefined,
      outcome: { decision: 'error', error: message, path: entrypoints[webhook], violations: [], evaluations: [], allowed: false, ...(err.uid ? { result: { uid: err.uid } } : {}) },
      bundles,
      handlerNs: elapsedNs(req),
    });
    ctx.log.warn({ webhook, err: message, remote: req.ip }, 'malformed admission review');
    const status = err.status ?? { code: 400, reason: 'BadRequest' };
    if (err.uid === undefined) return reply.code(status.code).send({ error: statusText(status.code), message });
    return reply.send({
      apiVersion: API_VERSION,
      kind: 'AdmissionReview',
      response: { uid: err.uid, allowed: false, status: { status: 'Failure', ...status, message }, auditAnnotations: { 'decision-id': decisionId } },
    });
  };

  /** Fail closed when no worker decided, in kind when the review's uid is known (from its worker, or read from the body still here). */
  const undecided = (webhook: Webhook, req: FastifyRequest, reply: FastifyReply, lost: Undecided) => {
    const decisionId = randomUUID();
    const uid = lost.request?.uid ?? lost.uid ?? (lost.body ? findRequestUid(lost.body) : undefined);
    if (uid === undefined && lost.body) {
      // Still here and without a uid: not a review the API server sent, whatever else is wrong with it.
      return malformed(webhook, req, reply, { kind: 'malformed', decisionId: randomUUID(), message: `request.uid is missing (and ${lost.why})`, bundles: ctx.engine.current().bundles });
    }
    const outcome = failure(entrypoints[webhook], lost.why);
    ctx.log.error({ webhook, uid, err: lost.why }, 'admission review not decided');
    account(ctx, {
      webhook,
      decisionId,
      request: lost.request ?? (uid ? { uid } : undefined),
      outcome: { ...outcome, allowed: false },
      bundles: ctx.engine.current().bundles,
      handlerNs: elapsedNs(req),
    });
    // Only when the worker stopped before it had read the review: nothing to answer in kind with.
    if (uid === undefined) return reply.code(503).header('retry-after', '1').send({ error: 'unavailable', message: lost.why });
    return reply
      .type('application/json; charset=utf-8')
      .send(JSON.stringify({ apiVersion: API_VERSION, kind: 'AdmissionReview', response: { uid, ...outcome.response, auditAnnotations: { 'decision-id': decisionId } } }));
  };

  // Bodies that never reach a handler (not JSON, too large, wrong media type) are decisions too.
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    const message =
      err.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        ? `the body is larger than the limit of ${config.maxBodyBytes} bytes (admission.maxBodyBytes)`
        : err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
          ? `content-type ${JSON.stringify(req.headers['content-type'] ?? '')} is not supported: send application/json`
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
    return reply.code(status).send({ error: statusText(status), message });
  });

  app.post('/validate', handle('validate'));
  app.post('/mutate', handle('mutate'));
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const checks = {
      bundle: ctx.engine.current().has(config.violationsEntrypoint),
      certificate: certificateValid(ctx),
      template: injector.revision !== undefined,
      workers: workers.running() > 0,
      draining: ctx.draining(),
    };
    const ready = checks.bundle && checks.certificate && checks.template && checks.workers && !checks.draining;
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
  });

  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    ctx.tls.off('change', rotate);
    ctx.tls.off('change', trust);
    injector.stop();
    await workers.close();
    throw err;
  }
  const port = (app.server.address() as { port: number }).port;
  return {
    name: 'admission',
    port,
    // A replica is ready to decide any review once a decision worker is up.
    ready: () => workers.running() > 0,
    api: (admin) => meshValidateRoute(admin, ctx, injector),
    async close() {
      ctx.tls.off('change', rotate);
      ctx.tls.off('change', trust);
      injector.stop();
      await app.close();
      gate?.close();
      await workers.close();
    },
  };
}

declare module 'fastify' {
  interface FastifyRequest {
    /** process.hrtime.bigint() when the request arrived (onRequest). */
    receivedNs: bigint;
  }
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

/** An error the error handler answers with its status and message (and records, on the webhook paths). */
function refusal(statusCode: number, message: string): Error & { statusCode: number } {
  return Object.assign(new Error(message), { statusCode });
}

/** "bad request", "payload too large", ...: the error field of a refusal. */
function statusText(code: number): string {
  return (STATUS_CODES[code] ?? 'error').toLowerCase();
}
