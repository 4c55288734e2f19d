import { Type, type Static } from 'typebox';

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
    maxJsonDepth: Type.Integer({
      minimum: 32,
      maximum: 1000,
      default: 256,
      description: 'objects and arrays nested deeper in a review are refused (400) before it is parsed: Kubernetes objects nest a few dozen levels, and the audit masking and the policy walk them recursively',
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
    workers: Type.Integer({
      minimum: 0,
      maximum: 64,
      default: 0,
      description: 'worker threads that parse, evaluate and patch (about one per core beyond the first); 0 decides on the main thread',
    }),
    inlineWhenIdle: Type.Boolean({
      default: true,
      description: 'with workers, decide on the main thread while it is less than half busy (no hand-over latency at low load); false hands every decision to the workers',
    }),
    injection: InjectionConfig,
  },
  { default: {}, additionalProperties: false },
);
export type AdmissionConfig = Static<typeof AdmissionConfig>;
