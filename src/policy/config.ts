import { Type, type Static } from 'typebox';

const Key = Type.Object(
  {
    algorithm: Type.String({ enum: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'HS256', 'HS384', 'HS512'], default: 'RS256', description: 'the only algorithm a signature with this key is accepted in' }),
    key: Type.Optional(Type.String({ description: 'PEM public key or certificate (HS*: the shared secret)' })),
    keyFile: Type.Optional(Type.String({ description: 'the same, from a file' })),
    scope: Type.Optional(Type.String({ description: "the signature's scope claim must equal it" })),
  },
  { additionalProperties: false },
);

const Bundle = Type.Object(
  {
    name: Type.String({ pattern: '^[a-zA-Z0-9._-]+$', description: 'names the bundle in logs, metrics, audit events and the status API' }),
    path: Type.Optional(Type.String({ description: 'bundle directory or .tar.gz file, watched for changes' })),
    url: Type.Optional(Type.String({ pattern: '^https?://', description: "OPA's bundle service protocol: polled with If-None-Match" })),
    headers: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'sent with every poll' })),
    bearerTokenFile: Type.Optional(Type.String({ description: 'sent as Authorization: Bearer, re-read at each poll' })),
    polling: Type.Object(
      {
        minDelaySeconds: Type.Number({ minimum: 0.05, default: 60, description: 'polls are spread at random between the two delays' }),
        maxDelaySeconds: Type.Number({ minimum: 0.05, default: 120 }),
        timeoutSeconds: Type.Number({ minimum: 1, default: 30, description: 'a poll that takes longer fails; the active bundle keeps serving' }),
      },
      { default: {}, additionalProperties: false },
    ),
    signing: Type.Optional(
      Type.Object(
        {
          keyid: Type.Optional(Type.String({ description: 'the policy.keys entry that verifies this bundle (else the kid of its signature); once set, unsigned bundles are refused' })),
          scope: Type.Optional(Type.String({ description: "the signature's scope claim must equal it" })),
          excludeFiles: Type.Optional(Type.Array(Type.String(), { description: 'files the signature need not cover' })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const PolicyConfig = Type.Object(
  {
    bundles: Type.Optional(Type.Array(Bundle, { minItems: 1, description: 'defaults to the built-in bundle' })),
    keys: Type.Record(Type.String(), Key, { default: {}, description: 'public keys (or HS secrets) that verify signed bundles, by key id' }),
    data: Type.Record(Type.String(), Type.Unknown(), { default: {}, description: 'merged over bundle data: exemptions, allowlists, enforcement overrides' }),
    dataFile: Type.Optional(Type.String({ description: 'YAML or JSON merged over bundle data, re-read when it changes (a mounted ConfigMap)' })),
    limits: Type.Object(
      {
        maxArchiveBytes: Type.Integer({ minimum: 1024, default: 32 * 1024 * 1024, description: 'a larger .tar.gz is refused before it is read' }),
        maxTotalBytes: Type.Integer({ minimum: 1024, default: 128 * 1024 * 1024, description: 'all files unpacked (a decompression bomb stops here)' }),
        maxFileBytes: Type.Integer({ minimum: 1024, default: 64 * 1024 * 1024, description: 'one file unpacked' }),
        maxFiles: Type.Integer({ minimum: 1, default: 10000, description: 'files in one bundle' }),
      },
      { default: {}, additionalProperties: false },
    ),
    dataChecks: Type.Array(Type.String(), {
      default: ['portcullis/authz/policy_errors'],
      description: 'entrypoints listing mistakes in the policy data; data they object to is refused and the previous data keeps serving',
    }),
    network: Type.Optional(
      Type.Object(
        {
          allowedHosts: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'hosts http.send and net.lookup_ip_addr may reach: exact names, or *.domain for the names under it' }),
          timeoutMs: Type.Integer({ minimum: 1, maximum: 60000, default: 1000, description: 'longest a request may take (a policy asking for more gets this)' }),
          cacheSeconds: Type.Integer({ minimum: 0, default: 60, description: 'longest a response a policy asks to cache (cache, force_cache) is reused' }),
          maxResponseBytes: Type.Integer({ minimum: 1024, default: 1024 * 1024, description: 'a longer response body fails the request' }),
        },
        { additionalProperties: false, description: 'lets policies use http.send and net.lookup_ip_addr; without it a bundle calling them is refused' },
      ),
    ),
    maxMemoryPages: Type.Integer({ minimum: 16, default: 4096, description: 'WebAssembly memory limit per policy, in 64 KiB pages' }),
    readyTimeoutSeconds: Type.Number({ minimum: 0, default: 30, description: 'start-up fails when no bundle is active after this long, naming what is missing' }),
  },
  { default: {}, additionalProperties: false },
);
export type PolicyConfig = Static<typeof PolicyConfig>;
