import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import type { TlsMaterial } from '../certs/provider.js';
import { issueSvid } from '../certs/svid.js';
import { spiffeId } from '../certs/workload.js';
import { parseDuration } from '../certs/duration.js';
import { kubeConfig } from '../kube/client.js';
import { TokenReviewer, type ServiceAccountIdentity } from '../kube/token-review.js';
import type { Context, Listener } from '../server/context.js';
import { MeshCa } from './mesh-ca.js';
import { discoveryDefinitions } from './protos.js';
import { refusal, SecretStream, type DiscoveryRequest, type DiscoveryResponse, type Issued } from './stream.js';

const MAX_TOKEN_BYTES = 16 * 1024;

/**
 * Server credentials that follow the TLS provider: a renewed serving certificate is used for new handshakes
 * (grpc-js swaps the secure context of its listeners), the ones open keep going.
 */
class RotatingCredentials extends grpc.ServerCredentials {
  constructor(private readonly minVersion: 'TLSv1.2' | 'TLSv1.3', material: TlsMaterial) {
    super({ minVersion, requestCert: false }, RotatingCredentials.options(minVersion, material));
  }

  static options(minVersion: 'TLSv1.2' | 'TLSv1.3', m: TlsMaterial) {
    return { cert: m.cert, key: m.key, minVersion };
  }

  update(m: TlsMaterial): void {
    this.updateSecureContextOptions(RotatingCredentials.options(this.minVersion, m));
  }

  _equals(other: grpc.ServerCredentials): boolean {
    return other === this;
  }
}

/**
 * The workload certificates of the injected proxies: Envoy's SecretDiscoveryService (StreamSecrets and
 * FetchSecrets), and the AggregatedDiscoveryService the injected proxies use, serving secrets only, over TLS. A stream is authenticated once, when it opens, by the Pod's projected
 * ServiceAccount token (authorization: Bearer, reviewed by the API server for sds.audience), and gets exactly
 * that ServiceAccount's SVID, spiffe://<trust domain>/ns/<namespace>/sa/<service account>, renewed before it
 * expires, and the trust bundle, sent again when it changes. It ends when the token expires: Envoy reconnects
 * with the token the kubelet has refreshed by then. Anything else is refused with a reason. Every issuance and
 * every refusal is an audit event (kind "sds"); the token itself is never logged.
 */
export async function startSdsDoor(ctx: Context): Promise<Listener> {
  const cfg = ctx.config.sds;
  const ttlMs = parseDuration(cfg.certificateTtl);
  const renewBeforeMs = parseDuration(cfg.renewBefore);
  if (renewBeforeMs >= ttlMs) throw new Error('sds.renewBefore must be shorter than sds.certificateTtl');
  const reviewer = new TokenReviewer(kubeConfig(ctx.config.kubernetes), cfg.audience, cfg.tokenReviewTimeoutMs);
  const ca = new MeshCa(ctx.tls, cfg.ca);
  await ca.start();
  const log = ctx.log.child({ component: 'sds' });
  const trustDomain = ctx.config.cluster.trustDomain;
  const streams = new Set<SecretStream>();
  const perPod = new Map<string, number>();
  const onTrust = () => {
    for (const s of streams) s.trustChanged();
  };
  ca.on('change', onTrust);

  const audit = (decision: 'allow' | 'deny', started: number, sds: { identity?: ServiceAccountIdentity; resources: string[]; reason: string; issued?: Issued }, error?: string) => {
    const id = sds.identity;
    ctx.audit.record({
      path: 'sds/secrets',
      kind: 'sds',
      decision,
      ...(error ? { error } : {}),
      bundles: {},
      metrics: { timer_server_handler_ns: Math.round((performance.now() - started) * 1e6) },
      ...(sds.issued ? { result: { serial: sds.issued.serial, not_after: sds.issued.notAfter.toISOString() } } : {}),
      sds: {
        spiffe_id: id ? spiffeId(trustDomain, id.namespace, id.serviceAccount) : '',
        namespace: id?.namespace ?? '',
        service_account: id?.serviceAccount ?? '',
        pod: id?.pod ?? '',
        resources: sds.resources,
        ...(sds.issued ? { serial: sds.issued.serial, not_after: sds.issued.notAfter.toISOString() } : {}),
        reason: sds.reason,
      },
    });
  };

  /** Who the caller is, from its token; or why it gets nothing. */
  const authenticate = async (metadata: grpc.Metadata): Promise<{ identity: ServiceAccountIdentity; token: string } | { code: grpc.status; reason: string }> => {
    const header = metadata.get('authorization')[0];
    const token = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] : undefined;
    if (!token) return { code: grpc.status.UNAUTHENTICATED, reason: 'no ServiceAccount token: send the Pod\'s projected token as "authorization: Bearer <token>"' };
    if (token.length > MAX_TOKEN_BYTES) return { code: grpc.status.UNAUTHENTICATED, reason: `the token is longer than ${MAX_TOKEN_BYTES} bytes` };
    const answer = await reviewer.review(token);
    if ('refused' in answer) return { code: grpc.status.UNAUTHENTICATED, reason: answer.refused };
    if (answer.identity.expiresAt && answer.identity.expiresAt.getTime() <= Date.now()) return { code: grpc.status.UNAUTHENTICATED, reason: 'the token has expired' };
    return { identity: answer.identity, token };
  };

  const issueFor = (identity: ServiceAccountIdentity, resources: () => string[]) => async (): Promise<Issued> => {
    const started = performance.now();
    const signer = ca.signer();
    const id = spiffeId(trustDomain, identity.namespace, identity.serviceAccount);
    const issued = await issueSvid(signer, id, ttlMs);
    ca.issued(signer, issued.notAfter);
    ctx.metrics.sdsCertificates.inc();
    audit('allow', started, { identity, resources: resources(), reason: `issued ${id}`, issued });
    log.info({ spiffeId: id, pod: identity.pod, serial: issued.serial, notAfter: issued.notAfter.toISOString() }, 'workload certificate issued');
    return issued;
  };

  const refuse = (started: number, code: grpc.status, reason: string, label: string, identity?: ServiceAccountIdentity, resources: string[] = []) => {
    ctx.metrics.sdsRefusals.inc({ reason: label });
    audit('deny', started, { ...(identity ? { identity } : {}), resources, reason }, reason);
    log.warn({ reason, pod: identity?.pod, namespace: identity?.namespace }, 'SDS request refused');
    return { code, details: reason };
  };

  /** One proxy's stream of secrets, over SDS or ADS alike (only secrets are served on either). */
  const secrets = (call: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>) => {
    const started = performance.now();
    let stream: SecretStream | undefined;
    let podKey: string | undefined;
    let expiry: NodeJS.Timeout | undefined;
    let names: string[] = [];
    let finished = false;
    // Until the token is reviewed, a client cannot pile requests up: the latest one is kept (in the
    // state-of-the-world protocol it names every secret the proxy wants), and the first one asking for what
    // is not served, which ends the stream once it is authenticated whatever came after it.
    let pending: DiscoveryRequest | undefined;
    let refused: DiscoveryRequest | undefined;
    const end = (status?: { code: grpc.status; details: string }) => {
      if (finished) return;
      finished = true;
      clearTimeout(expiry);
      if (stream) {
        stream.close();
        streams.delete(stream);
        ctx.metrics.sdsStreams.set(streams.size);
      }
      if (podKey) {
        const left = (perPod.get(podKey) ?? 1) - 1;
        if (left > 0) perPod.set(podKey, left);
        else perPod.delete(podKey);
      }
      if (call.cancelled) return;
      // grpc-js ends a streaming call with a status when 'error' is emitted on it.
      if (status) call.emit('error', { code: status.code, details: status.details, metadata: new grpc.Metadata() });
      else call.end();
    };
    call.on('cancelled', () => end());
    call.on('error', () => end());
    call.on('end', () => end());
    call.on('data', (req: DiscoveryRequest) => {
      names = req.resource_names ?? [];
      if (stream) stream.onRequest(req);
      else if (refusal(req)) refused ??= req;
      else pending = req;
    });
    void (async () => {
      if (streams.size >= cfg.maxStreams) return end(refuse(started, grpc.status.RESOURCE_EXHAUSTED, `this server holds ${cfg.maxStreams} streams (sds.maxStreams): try another replica`, 'exhausted'));
      const who = await authenticate(call.metadata);
      if ('reason' in who) return end(refuse(started, who.code, who.reason, 'unauthenticated', undefined, names));
      const identity = who.identity;
      // One Pod: its uid or name when the token is bound to it, else the token itself (a projected token is a Pod's).
      const key = identity.podUid ?? identity.pod ?? createHash('sha256').update(who.token).digest('hex');
      if ((perPod.get(key) ?? 0) >= cfg.maxStreamsPerPod) {
        return end(refuse(started, grpc.status.RESOURCE_EXHAUSTED, `Pod ${identity.namespace}/${identity.pod ?? '?'} holds ${cfg.maxStreamsPerPod} streams already (sds.maxStreamsPerPod)`, 'exhausted', identity, names));
      }
      if (call.cancelled || finished) return;
      perPod.set(key, (perPod.get(key) ?? 0) + 1);
      podKey = key;
      stream = new SecretStream({
        issue: issueFor(identity, () => names),
        trustBundle: () => ca.trustBundle(),
        renewBeforeMs,
        send: (response) => {
          if (!call.cancelled) call.write(response);
        },
        fail: (reason) => end(refuse(started, grpc.status.INVALID_ARGUMENT, reason, 'invalid', identity, names)),
        nack: (message) => log.warn({ pod: identity.pod, namespace: identity.namespace, message }, 'the proxy refused the secrets it was sent'),
      });
      streams.add(stream);
      ctx.metrics.sdsStreams.set(streams.size);
      // The stream ends with its token; the proxy comes back with the one the kubelet refreshed.
      if (identity.expiresAt) {
        expiry = setTimeout(() => end({ code: grpc.status.UNAVAILABLE, details: 'the token of this stream has expired: reconnect with the current one' }), Math.min(Math.max(0, identity.expiresAt.getTime() - Date.now()), 2 ** 31 - 1));
        expiry.unref();
      }
      const first = refused ?? pending;
      if (first) stream.onRequest(first);
    })().catch((err: Error) => end({ code: grpc.status.INTERNAL, details: err.message }));
  };

  const fetch = (call: grpc.ServerUnaryCall<DiscoveryRequest, DiscoveryResponse>, callback: grpc.sendUnaryData<DiscoveryResponse>) => {
    const started = performance.now();
    const names = call.request.resource_names ?? [];
    void (async () => {
      const who = await authenticate(call.metadata);
      if ('reason' in who) return callback(refuse(started, who.code, who.reason, 'unauthenticated', undefined, names));
      const outcome = await new Promise<DiscoveryResponse | { failure: string }>((resolve) => {
        const once = new SecretStream({
          issue: issueFor(who.identity, () => names),
          trustBundle: () => ca.trustBundle(),
          renewBeforeMs,
          send: (response) => {
            once.close();
            resolve(response);
          },
          fail: (reason) => {
            once.close();
            resolve({ failure: reason });
          },
          nack: () => {},
        });
        once.onRequest({ ...call.request, response_nonce: '' });
      });
      if ('failure' in outcome) return callback(refuse(started, grpc.status.INVALID_ARGUMENT, outcome.failure, 'invalid', who.identity, names));
      callback(null, outcome);
    })().catch((err: Error) => callback({ code: grpc.status.INTERNAL, details: err.message }));
  };

  /** The incremental protocols are not served: Envoy uses the state-of-the-world one by default. */
  const delta = (call: grpc.ServerDuplexStream<unknown, unknown>) =>
    call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: 'the incremental (delta) protocol is not served: use api_type GRPC', metadata: new grpc.Metadata() });

  const server = new grpc.Server({ 'grpc.enable_channelz': 0, 'grpc.max_receive_message_length': 1024 * 1024 });
  const definitions = discoveryDefinitions();
  server.addService(definitions.sds, { StreamSecrets: secrets, FetchSecrets: fetch, DeltaSecrets: delta });
  server.addService(definitions.ads, { StreamAggregatedResources: secrets, DeltaAggregatedResources: delta });

  const credentials = new RotatingCredentials(ctx.config.tls.minVersion, ctx.tls.current());
  const rotate = (m: TlsMaterial) => credentials.update(m);
  ctx.tls.on('change', rotate);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host}:${cfg.port}`, credentials, (err, p) => (err ? reject(err) : resolve(p))),
  ).catch((err: Error) => {
    ctx.tls.off('change', rotate);
    ca.stop();
    throw err;
  });
  log.info({ port, trustDomain, audience: cfg.audience }, 'SDS listening');
  return {
    name: 'sds',
    port,
    async close() {
      ctx.tls.off('change', rotate);
      ca.off('change', onTrust);
      ca.stop();
      for (const s of streams) s.close();
      // Streams stay open as long as the proxies like: they are ended, and the proxies go to another replica.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 1000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}
