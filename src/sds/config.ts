import { Type, type Static } from 'typebox';
import { DURATION_PATTERN } from '../certs/duration.js';

export const SdsConfig = Type.Object(
  {
    enabled: Type.Boolean({
      default: false,
      description: "the workload certificates of the injected proxies (Envoy's SecretDiscoveryService, and secrets over its AggregatedDiscoveryService, over TLS); needs the API server to review the proxies' ServiceAccount tokens (kubernetes mode, or kubernetes.kubeconfig)",
    }),
    host: Type.String({ default: '0.0.0.0' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 15012 }),
    audience: Type.String({
      minLength: 1,
      default: 'portcullis',
      description: 'the audience the proxies\' projected tokens must be for: admission.injection.values.certificates.tokenAudience',
    }),
    certificateTtl: Type.String({ pattern: DURATION_PATTERN, default: '24h', description: 'lifetime of each workload certificate (SVID); never beyond the CA' }),
    renewBefore: Type.String({ pattern: DURATION_PATTERN, default: '4h', description: 'a new certificate is streamed to the proxy this long before the current one expires' }),
    maxStreams: Type.Integer({ minimum: 1, default: 20000, description: 'open SDS streams in all; more are refused (RESOURCE_EXHAUSTED)' }),
    maxStreamsPerPod: Type.Integer({ minimum: 1, default: 8, description: 'open streams one Pod (one token) may hold; an injected Envoy holds one (its ADS stream), more while it reconnects' }),
    tokenReviewTimeoutMs: Type.Integer({ minimum: 100, default: 5000 }),
    ca: Type.Optional(
      Type.Object(
        {
          certFile: Type.String({ description: 'PEM CA certificate that signs the workload certificates' }),
          keyFile: Type.String({ description: 'its private key' }),
          bundleFile: Type.Optional(Type.String({ description: 'PEM trust bundle sent to the proxies (default: the CA certificate)' })),
        },
        {
          additionalProperties: false,
          description: 'a CA of the operator\'s (files are re-read when they change); without it, the mesh CA Portcullis keeps (tls.mode dev or secret)',
        },
      ),
    ),
  },
  { default: {}, additionalProperties: false },
);
export type SdsConfig = Static<typeof SdsConfig>;
