import { Type, type Static } from 'typebox';
import { httpConnections } from '../net/http-limits.js';

const Algorithm = Type.String({ enum: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'HS256', 'HS384', 'HS512'] });

const Issuer = Type.Object(
  {
    issuer: Type.String({ minLength: 1, description: 'the exact `iss` claim' }),
    audiences: Type.Array(Type.String(), { default: [], description: 'the token must name one of them in `aud`; empty accepts any audience' }),
    jwks: Type.Optional(Type.Object({ keys: Type.Array(Type.Record(Type.String(), Type.Unknown())) }, { description: 'inline JSON Web Key Set' })),
    jwksFile: Type.Optional(Type.String({ description: 'JSON Web Key Set on disk, re-read when it changes' })),
    jwksUri: Type.Optional(Type.String({ pattern: '^https://', description: 'fetched over HTTPS and cached' })),
    secretFile: Type.Optional(Type.String({ description: 'shared secret for HS256/384/512 issuers (never combined with a JWKS)' })),
    algorithms: Type.Array(Algorithm, { minItems: 1, default: ['RS256', 'ES256'], description: 'accepted signature algorithms; never none, HS* only with secretFile' }),
    forwardClaims: Type.Record(Type.String(), Type.String(), { default: {}, description: 'claim → request header sent upstream when the request is allowed' }),
  },
  { additionalProperties: false },
);
export type IssuerConfig = Static<typeof Issuer>;

const Jwt = Type.Object(
  {
    issuers: Type.Array(Issuer, { default: [], description: 'trusted token issuers; a token of any other issuer is not verified (input.mesh.jwt.error wrong_issuer)' }),
    header: Type.String({ default: 'authorization', description: 'header carrying the token; "authorization" expects the Bearer scheme' }),
    maxTokenBytes: Type.Integer({ minimum: 64, default: 8192, description: 'a longer token is not parsed (error too_large)' }),
    clockSkewSeconds: Type.Integer({ minimum: 0, default: 30, description: 'tolerance on exp and nbf' }),
    cacheSize: Type.Integer({ minimum: 0, default: 10000, description: 'verified tokens remembered (0 disables the cache)' }),
    cacheSeconds: Type.Integer({ minimum: 1, default: 60, description: 'longest a verified token is trusted without checking its key again' }),
    jwksCacheSeconds: Type.Integer({ minimum: 1, default: 300, description: 'age after which a JWKS is refreshed in the background' }),
    jwksMinRefreshSeconds: Type.Number({ minimum: 0, default: 10, description: 'at most one fetch per issuer in this interval, however many unknown kids arrive' }),
    jwksTimeoutMs: Type.Integer({ minimum: 10, default: 2000, description: 'a JWKS fetch that takes longer fails (error keys_unavailable)' }),
    jwksCaFile: Type.Optional(Type.String({ description: 'PEM bundle trusted for jwksUri in addition to the system roots' })),
  },
  { default: {}, additionalProperties: false },
);
export type JwtConfig = Static<typeof Jwt>;

/**
 * The gRPC listener's connections: Portcullis owns the socket (the preface timeout and the connection bound),
 * gRPC the rest (keepalive and connection age as Istio sets them for its servers).
 */
const GrpcConnections = Type.Object(
  {
    prefaceTimeoutMs: Type.Integer({
      minimum: 100,
      default: 10_000,
      description: 'a connection that has not sent the HTTP/2 client preface in this time is closed (Envoy sends it at once)',
    }),
    maxConnections: Type.Integer({ minimum: 1, default: 4096, description: 'open connections at once; more are closed as they arrive (Envoy keeps a few per worker thread)' }),
    keepaliveTimeMs: Type.Integer({ minimum: 1000, default: 30_000, description: 'an idle connection is pinged this often, so a peer gone without a word is noticed' }),
    keepaliveTimeoutMs: Type.Integer({ minimum: 100, default: 10_000, description: 'a ping not answered in this time closes the connection' }),
    maxConnectionIdleMs: Type.Integer({ minimum: 1000, default: 900_000, description: 'a connection without calls for this long is closed (GOAWAY)' }),
    maxConnectionAgeMs: Type.Integer({ minimum: 1000, default: 1_800_000, description: 'every connection is closed (GOAWAY) at this age, so clients spread over replicas' }),
    maxConnectionAgeGraceMs: Type.Integer({ minimum: 0, default: 10_000, description: 'calls still running on a connection closed for its age get this long' }),
    maxConcurrentStreams: Type.Integer({ minimum: 1, default: 1000, description: 'calls at once on one connection' }),
  },
  { default: {}, additionalProperties: false, description: 'preface timeout, connection bound, keepalive and connection age of the gRPC listener (docs/limits.md)' },
);

export const AuthzConfig = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: 'serve Envoy external authorization' }),
    grpc: Type.Object(
      {
        enabled: Type.Boolean({ default: true }),
        host: Type.String({ default: '0.0.0.0' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 9191, description: 'envoy.service.auth.v3.Authorization/Check and grpc.health.v1.Health (plaintext HTTP/2)' }),
        maxMessageBytes: Type.Integer({ minimum: 1024, default: 4 * 1024 * 1024, description: 'largest CheckRequest accepted' }),
        connections: GrpcConnections,
      },
      { default: {}, additionalProperties: false },
    ),
    http: Type.Object(
      {
        enabled: Type.Boolean({ default: true }),
        host: Type.String({ default: '0.0.0.0' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 9192, description: "the HTTP mode of Envoy's ext_authz filter, and nginx auth_request" }),
        pathPrefix: Type.String({ default: '', description: "Envoy's http_service path_prefix, removed from the path before evaluation" }),
        originalUriHeader: Type.String({ default: 'x-original-uri', description: 'nginx auth_request: header carrying the original request URI' }),
        originalMethodHeader: Type.String({ default: 'x-original-method', description: 'nginx auth_request: header carrying the original method' }),
        maxHeaderBytes: Type.Integer({ minimum: 1024, default: 16 * 1024, description: 'larger request headers are refused with 431' }),
        connections: httpConnections(
          // Envoy and nginx send a check at once and keep pooled connections; Envoy forwards up to 100 client headers and adds its own.
          { headersTimeoutMs: 5_000, requestTimeoutMs: 10_000, keepAliveTimeoutMs: 65_000, idleTimeoutMs: 60_000, maxConnections: 4096, maxHeaders: 200 },
          'the ext_authz HTTP listener',
        ),
      },
      { default: {}, additionalProperties: false },
    ),
    entrypoint: Type.String({ default: 'portcullis/authz/decision', description: 'an opa-envoy-plugin policy works with envoy/authz/allow' }),
    failureMode: Type.Union([Type.Literal('deny'), Type.Literal('allow')], { default: 'deny', description: 'answer when the decision itself fails' }),
    timeoutMs: Type.Integer({ minimum: 1, default: 1000, description: 'a decision not taken in time answers with the failure mode' }),
    maxBodyBytes: Type.Integer({ minimum: 0, default: 64 * 1024, description: 'request body kept for the policy; a longer one is refused' }),
    jwt: Jwt,
    identity: Type.Object(
      {
        trustXfcc: Type.Boolean({ default: false, description: 'take the caller identity from x-forwarded-client-cert when the peer presented none' }),
      },
      { default: {}, additionalProperties: false },
    ),
    geo: Type.Object(
      {
        enabled: Type.Boolean({ default: true, description: 'look up the country (and region) of the client address' }),
        database: Type.Optional(Type.String({ description: 'MaxMind-format country database; defaults to the CC0 one shipped with the package' })),
        xffNumTrustedHops: Type.Integer({ minimum: 0, default: 0, description: "as Envoy's xff_num_trusted_hops with use_remote_address: 0 ignores X-Forwarded-For" }),
        countryRegions: Type.Record(Type.String(), Type.String(), { default: {}, description: 'ISO country code → region name' }),
      },
      { default: {}, additionalProperties: false },
    ),
    rateLimit: Type.Object(
      {
        maxBuckets: Type.Integer({ minimum: 1, default: 100000, description: 'rate-limit keys tracked at once; the least recently used is forgotten first' }),
        idleSeconds: Type.Integer({ minimum: 1, default: 600, description: 'a bucket untouched this long is forgotten' }),
      },
      { default: {}, additionalProperties: false },
    ),
  },
  { default: {}, additionalProperties: false },
);
export type AuthzConfig = Static<typeof AuthzConfig>;
