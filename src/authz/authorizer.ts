import { performance } from 'node:perf_hooks';
import type { Context } from '../server/context.js';
import type { AuthzConfig } from './config.js';
import { DeadlineExceeded } from './deadline.js';
import { DecisionError, emptyDecision, readDecision, type Decision } from './decision.js';
import { CountryLookup } from './geo/country.js';
import type { CheckRequestJson, HttpAttributes } from './input/attributes.js';
import { envoyInput, InputError, type EnvoyInput } from './input/document.js';
import { RequestParseError } from './input/path.js';
import { JwtVerifier, type JwtResult } from './jwt/verify.js';
import { MeshBuilder, type MeshFacts } from './mesh.js';
import { TokenBuckets } from './rate-limit.js';

export type Transport = 'grpc' | 'http';

/** A request as it arrived: a CheckRequest in its JSON mapping, or why it could not be read. */
export type Incoming = { request: CheckRequestJson } | { malformed: string; status?: number };

export interface Outcome {
  decision: Decision;
  decisionId: string;
}

const DENIED_BODY = 'access denied';

/**
 * One decision per request, whatever the transport: read the request, gather the mesh facts, evaluate the
 * policy, enforce its rate limit, account for it (audit event, metrics). Never rejects: every failure is
 * answered with the configured failure mode, and the reason goes to the audit log, not to the caller.
 */
export class Authorizer {
  readonly config: AuthzConfig;
  private readonly jwt: JwtVerifier;
  private readonly mesh: MeshBuilder;
  private readonly buckets: TokenBuckets;
  private readonly counters = new Map<string, { inc(): void }>();
  private readonly evaluation: { observe(seconds: number): void };
  private readonly requestTimers: Record<Transport, { observe(seconds: number): void }>;

  constructor(private readonly ctx: Context) {
    this.config = ctx.config.authz;
    const log = ctx.log.child({ component: 'authz' });
    this.jwt = new JwtVerifier(this.config.jwt, { log, onFetchError: (issuer) => ctx.metrics.jwksFetchErrors.inc({ issuer }) });
    const geo = this.config.geo.enabled ? new CountryLookup(this.config.geo.database) : undefined;
    this.mesh = new MeshBuilder(this.config, ctx.facts, geo, { name: ctx.config.cluster.name, trustDomain: ctx.config.cluster.trustDomain });
    this.buckets = new TokenBuckets(this.config.rateLimit.maxBuckets, this.config.rateLimit.idleSeconds * 1000);
    this.evaluation = ctx.metrics.evaluation.labels(this.config.entrypoint);
    this.requestTimers = { grpc: ctx.metrics.requests.labels('authz', 'grpc'), http: ctx.metrics.requests.labels('authz', 'http') };
  }

  close(): void {
    this.jwt.close();
  }

  async check(incoming: Incoming, transport: Transport, decisionId: string, started: number, callerDeadline = Infinity): Promise<Outcome> {
    const deadline = Math.min(Date.now() + this.config.timeoutMs, callerDeadline);
    let input: EnvoyInput | undefined;
    let result: unknown;
    let evalNs = 0;
    let decision: Decision;
    let error: string | undefined;
    // The audit event names the bundle revisions that decided, even if a reload swaps them meanwhile.
    const snapshot = this.ctx.engine.current();
    try {
      if ('malformed' in incoming) throw new InputError(incoming.malformed, incoming.status);
      input = envoyInput(incoming.request);
      const attributes = input.attributes ?? {};
      const jwt: JwtResult = await this.jwt.verify(attributes.request?.http?.headers, deadline);
      const mesh: MeshFacts = this.mesh.build(attributes, jwt.facts);
      input.mesh = mesh;
      if (Date.now() > deadline) throw new DeadlineExceeded('gathering request facts');
      const t0 = performance.now();
      try {
        result = snapshot.evaluate(this.config.entrypoint, input, undefined, true);
      } finally {
        evalNs = Math.round((performance.now() - t0) * 1e6);
        this.evaluation.observe(evalNs / 1e9);
      }
      decision = readDecision(result);
      if (decision.allowed) {
        this.forwardClaims(decision, jwt);
        decision = this.limit(decision);
      }
    } catch (err) {
      error = (err as Error).message;
      decision = err instanceof InputError ? badRequest(err) : err instanceof RequestParseError ? requestParseError(err) : this.failure(err as Error);
    }
    // A request that could not be parsed has no input; its summary still names its method and path.
    const http = input?.attributes?.request?.http ?? ('request' in incoming ? incoming.request.attributes?.request?.http : undefined);
    this.account(transport, decisionId, started, snapshot.bundles, input, http, result, decision, evalNs, error);
    return { decision, decisionId };
  }

  /** Claims the issuer forwards go upstream; the same header names are stripped when the token has no such claim, so a client cannot set them itself. */
  private forwardClaims(decision: Decision, jwt: JwtResult): void {
    const forward = jwt.forward ?? {};
    const set = new Set(decision.headers.map(([k]) => k.toLowerCase()));
    for (const [header, value] of Object.entries(forward)) if (!set.has(header)) decision.headers.push([header, value]);
    for (const header of this.jwt.forwardedHeaders) if (!(header in forward) && !set.has(header)) decision.requestHeadersToRemove.push(header);
  }

  private limit(decision: Decision): Decision {
    const limit = decision.rateLimit;
    if (!limit) return decision;
    const take = this.buckets.take(limit);
    if (take.allowed) return decision;
    return {
      ...denied(429, 'rate limit exceeded'),
      headers: [
        ['content-type', 'text/plain'],
        ['retry-after', String(take.retryAfterSeconds)],
      ],
      reason: `rate limit ${limit.key}: ${limit.requests_per_minute}/min, burst ${limit.burst}`,
      rateLimit: limit,
    };
  }

  private failure(err: Error): Decision {
    const what = err instanceof DeadlineExceeded ? 'timeout' : err instanceof DecisionError ? 'invalid decision' : 'policy error';
    if (this.config.failureMode === 'allow') return { ...allowedNothing(), reason: `failure mode allow (${what}): ${err.message}` };
    return { ...denied(403, DENIED_BODY), reason: `failure mode deny (${what}): ${err.message}` };
  }

  private account(transport: Transport, decisionId: string, started: number, bundles: Readonly<Record<string, { revision: string }>>, input: EnvoyInput | undefined, http: HttpAttributes | undefined, result: unknown, decision: Decision, evalNs: number, error: string | undefined): void {
    const outcome = error !== undefined ? 'error' : decision.allowed ? 'allow' : 'deny';
    this.counter(outcome, transport).inc();
    const handlerSeconds = (performance.now() - started) / 1000;
    this.requestTimers[transport].observe(handlerSeconds);
    const mesh = input?.mesh as MeshFacts | undefined;
    const claims = mesh?.jwt.verified ? mesh.jwt.claims : undefined;
    this.ctx.audit.record({
      decision_id: decisionId,
      path: this.config.entrypoint,
      ...(input !== undefined ? { input } : {}),
      ...(result !== undefined ? { result } : {}),
      bundles,
      metrics: { timer_rego_eval_ns: evalNs, timer_server_handler_ns: Math.round(handlerSeconds * 1e9) },
      kind: 'authz',
      decision: outcome,
      ...(error !== undefined ? { error } : {}),
      authz: {
        principal: mesh?.source.principal || (typeof claims?.sub === 'string' ? claims.sub : ''),
        method: http?.method ?? '',
        path: http?.path ?? '',
        status: decision.allowed ? 200 : decision.httpStatus,
        reason: decision.reason,
        allowed: decision.allowed,
        transport,
      },
    });
  }

  private counter(result: string, via: Transport): { inc(): void } {
    const key = `${result}:${via}`;
    let c = this.counters.get(key);
    if (!c) this.counters.set(key, (c = this.ctx.metrics.decisions.labels('authz', result, via)));
    return c;
  }
}

function denied(status: number, body: string): Decision {
  return { ...emptyDecision(false, status), headers: [['content-type', 'text/plain']], body };
}

function allowedNothing(): Decision {
  return emptyDecision(true, 200);
}

/** The client is told what was wrong with its request (its own request: nothing it did not send). */
function badRequest(err: InputError): Decision {
  const what = err.status === 413 ? 'request too large' : err.status === 431 ? 'request header fields too large' : 'malformed request';
  return { ...denied(err.status, `${what}: ${err.message}`), reason: `malformed request: ${err.message}` };
}

/** opa-envoy-plugin's answer to a path, query or body it cannot parse: 400, the error as status message and body, no metadata. */
function requestParseError(err: RequestParseError): Decision {
  const message = `request_parse_error: ${err.message}`;
  return { ...emptyDecision(false, 400), body: message, statusMessage: message, withoutMetadata: true, reason: message };
}
