import { Type, type Static } from 'typebox';
import { httpsConnections } from '../net/http-limits.js';
import { ReviewLimits } from './limits.js';

export const InjectionConfig = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: 'false: /mutate never injects (mutation policies still run)' }),
    provider: Type.Union([Type.Literal('portcullis'), Type.Literal('istio')], {
      default: 'portcullis',
      description:
        "whose proxy the mesh runs: portcullis (Envoy injected by Portcullis, certificates from its SDS) or istio (Istio's webhook injects istio-proxy and Portcullis serves as its ext_authz: Portcullis injects nothing, and the rules judge Istio's sidecar; written to the policy data as mesh.sidecar)",
    }),
    templateFile: Type.Optional(
      Type.String({ description: 'YAML sidecar template (e.g. a mounted ConfigMap key) with {{ placeholders }}; re-read when it changes; the embedded template otherwise' }),
    ),
    valuesFile: Type.Optional(Type.String({ description: 'YAML values merged over the defaults and `values`; re-read when it changes' })),
    values: Type.Record(Type.String(), Type.Unknown(), { default: {}, description: 'values merged over the defaults (proxy.image, authz.address, ...)' }),
    redirect: Type.Union([Type.Literal('init'), Type.Literal('node')], {
      default: 'init',
      description:
        "who installs the traffic redirect in a Pod's network namespace: init (the portcullis-init container, root with NET_ADMIN and NET_RAW, passes the baseline Pod Security level only) or node (the node agent, `portcullis node-agent`, a privileged DaemonSet, installs it from the node; the Pod gets the non-root portcullis-validation init container that checks the redirect works, and passes the restricted level)",
    }),
    nativeSidecar: Type.Boolean({ default: false, description: 'inject the proxy as an init container with restartPolicy: Always (Kubernetes 1.29+)' }),
    excludedNamespaces: Type.Array(Type.String(), { default: [], description: 'never injected, in addition to kube-system and kube-public' }),
  },
  { default: {}, additionalProperties: false },
);
export type InjectionConfig = Static<typeof InjectionConfig>;

export const AdmissionConfig = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: 'serve the admission webhook' }),
    host: Type.String({ default: '0.0.0.0', description: 'address the HTTPS listener binds' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8443, description: 'HTTPS: POST /mutate, POST /validate, /healthz, /readyz' }),
    maxBodyBytes: Type.Integer({ minimum: 1024, default: 6 * 1024 * 1024, description: 'the API server sends at most ~3 MiB objects, twice for UPDATE' }),
    maxInFlightBytes: Type.Integer({
      minimum: 1024 * 1024,
      default: 64 * 1024 * 1024,
      description: 'request bodies being received or decided at once (by content-length; maxBodyBytes for a chunked one); a request past it gets 429 (one alone is always taken)',
    }),
    connections: httpsConnections(
      // The API server sends a review at once over a pooled connection it keeps up to 90 s idle, and waits at most 30 s for any webhook.
      { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 95_000, idleTimeoutMs: 60_000, handshakeTimeoutMs: 10_000, maxConnections: 512, maxHeaders: 100 },
      'the admission webhook (HTTPS)',
    ),
    maxJsonDepth: Type.Integer({
      minimum: 32,
      maximum: 1000,
      default: 256,
      description: 'objects and arrays nested deeper in a review are refused (denied in kind, code 400) before anything walks it recursively: Kubernetes objects nest a few dozen levels, and the audit masking and the policy walk them recursively',
    }),
    violationsEntrypoint: Type.String({ default: 'portcullis/admission/violations', description: 'returns [{rule, msg, enforcement, details?}]; without it every review is refused (fail closed)' }),
    patchesEntrypoint: Type.String({ default: 'portcullis/admission/patches', description: 'returns RFC 6902 operations applied after injection; optional' }),
    patchesActiveEntrypoint: Type.String({
      default: 'portcullis/admission/patches_active',
      description: 'a data-only boolean, evaluated once per policy snapshot: while a bundle provides it and it is false, the patches entrypoint is not evaluated',
    }),
    dropManagedFields: Type.Boolean({
      default: true,
      description: 'leave metadata.managedFields (server-side apply bookkeeping, often larger than the spec) out of the policy input and the audit log',
    }),
    limits: ReviewLimits,
    timeoutMs: Type.Integer({
      minimum: 100,
      maximum: 29_000,
      default: 3000,
      description:
        'a decision not made in time is refused (fail closed) and its worker replaced; keep it under the webhooks\' timeoutSeconds (5 s) so the API server gets the reason',
    }),
    workers: Type.Integer({
      minimum: 1,
      maximum: 64,
      default: 1,
      description: 'worker threads that parse, evaluate and patch (about one per core beyond the first); a decision that runs past timeoutMs can only be stopped there',
    }),
    workerRecycleBytes: Type.Integer({
      minimum: 16 * 1024 * 1024,
      default: 96 * 1024 * 1024,
      description: "a decision worker whose policy memory grew past this (a large review) is replaced once it has answered, which returns the memory; policy.maxMemoryPages bounds it",
    }),
    inlineWhenIdle: Type.Boolean({
      default: true,
      description: 'decide small reviews on the main thread while it is less than half busy (no hand-over latency at low load); false hands every decision to the workers',
    }),
    injection: InjectionConfig,
  },
  { default: {}, additionalProperties: false },
);
export type AdmissionConfig = Static<typeof AdmissionConfig>;
