// Token attacks through the gRPC door: each one denied, each with its own reason in input.mesh.jwt.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import t from 'tap';
import { buildIssuers } from '../../src/authz/jwt/issuers.js';
import { FIXTURES } from '../helpers/paths.js';
import { testBundle } from './bundles.js';
import { fromProtoJson } from './grpc-client.js';
import { decisionIdOf, startAuthz } from './harness.js';
import { AUDIENCE, ISSUER, hmacWithPublicKey, sign, testKey, unsigned } from './issuer.js';

const dir = await mkdtemp(join(tmpdir(), 'portcullis-jwt-test-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const rsa = await testKey('rsa-1');
const ec = await testKey('ec-1', 'ES256');
const stranger = await testKey('rsa-1');
const secret = Buffer.from('an HMAC secret of at least thirty-two bytes for HS256');
await writeFile(join(dir, 'hmac.key'), secret);
const HMAC_ISSUER = 'https://hmac.portcullis.test';
const h = await startAuthz({
  bundle: await testBundle(dir),
  authz: {
    entrypoint: 'envoy/authz/result',
    jwt: {
      maxTokenBytes: 2048,
      clockSkewSeconds: 30,
      issuers: [
        { issuer: ISSUER, audiences: [AUDIENCE, 'other'], jwks: { keys: [rsa.jwk, ec.jwk] }, algorithms: ['RS256', 'ES256'] },
        { issuer: HMAC_ISSUER, audiences: [AUDIENCE], secretFile: join(dir, 'hmac.key'), algorithms: ['HS256'] },
      ],
    },
  },
});
t.teardown(() => h.close());
const fixture = JSON.parse(await readFile(join(FIXTURES, 'authz', 'check-jwt-mtls.json'), 'utf8'));
const now = Math.floor(Date.now() / 1000);

/** Presents the token on a route that needs claims; returns the HTTP status and input.mesh.jwt. */
async function present(token: string, raw = false): Promise<{ status: number; jwt: Record<string, unknown> }> {
  const doc = structuredClone(fixture);
  const headers = doc.attributes.request.http.headers;
  delete headers.authorization;
  headers.authorization = raw ? token : `Bearer ${token}`;
  doc.attributes.request.http.path = '/api/v1/orders/user-1';
  doc.attributes.request.http.method = 'GET';
  const res = await h.client.check(fromProtoJson(doc));
  const event = await h.event(decisionIdOf(res));
  return { status: res.status.code === 0 ? 200 : (res.denied_response?.status.code ?? 0), jwt: (event.input as { mesh: { jwt: Record<string, unknown> } }).mesh.jwt };
}

t.test('valid tokens pass: RS256, ES256, HS256 from its own issuer, within the clock skew', async (t) => {
  t.match(await present(await sign(rsa)), { status: 200, jwt: { verified: true, issuer: ISSUER, claims: { sub: 'user-1' } } });
  t.match(await present(await sign(ec)), { status: 200, jwt: { verified: true } });
  const hs = await new SignJWT({ iss: HMAC_ISSUER, aud: AUDIENCE, sub: 'user-1', exp: now + 60 }).setProtectedHeader({ alg: 'HS256' }).sign(secret);
  t.match(await present(hs), { status: 200, jwt: { verified: true, issuer: HMAC_ISSUER } });
  t.match(await present(await sign(rsa, { exp: now - 10 })), { status: 200 }, 'expired 10 s ago, 30 s of skew allowed');
  t.match(await present(await sign(rsa, { aud: ['x', 'other'] })), { status: 200 }, 'one of several audiences');
});

const attacks: Array<[string, () => Promise<string>, string]> = [
  ['alg none', async () => unsigned({ iss: ISSUER, aud: AUDIENCE, sub: 'user-1', exp: now + 60 }), 'alg_not_allowed'],
  ['alg None (case games)', async () => unsigned({ iss: ISSUER, aud: AUDIENCE, sub: 'user-1' }).replace(/^[^.]+/, Buffer.from('{"alg":"None"}').toString('base64url')), 'alg_not_allowed'],
  ['HS256 signed with the RSA public key', () => hmacWithPublicKey(rsa, { iss: ISSUER, aud: AUDIENCE, sub: 'user-1', exp: now + 60 }), 'alg_not_allowed'],
  ['RS256 for the HMAC issuer', () => sign(rsa, { iss: HMAC_ISSUER }), 'alg_not_allowed'],
  ['expired', () => sign(rsa, { exp: now - 120 }), 'expired'],
  ['not yet valid', () => sign(rsa, { nbf: now + 600 }), 'not_yet_valid'],
  ['wrong issuer', () => sign(rsa, { iss: 'https://evil.example' }), 'wrong_issuer'],
  ['no issuer', () => sign(rsa, { iss: undefined }), 'wrong_issuer'],
  ['wrong audience', () => sign(rsa, { aud: 'billing' }), 'wrong_audience'],
  ['unknown kid', () => sign({ ...rsa, kid: 'rsa-9' }), 'unknown_kid'],
  ['signed by a stranger with a known kid', () => sign(stranger), 'bad_signature'],
  ['signature of another token', async () => `${(await sign(rsa, { sub: 'admin' })).split('.').slice(0, 2).join('.')}.${(await sign(rsa)).split('.')[2]}`, 'bad_signature'],
  ['oversized', () => sign(rsa, { pad: 'p'.repeat(3000) }), 'too_large'],
  ['garbage', async () => 'not-a-jwt', 'malformed'],
  ['three parts of garbage', async () => 'eyJhbGciOi.eyJzdWIi.c2ln', 'malformed'],
  ['header not JSON', async () => `${Buffer.from('alg').toString('base64url')}.${Buffer.from('{}').toString('base64url')}.sig`, 'malformed'],
];

for (const [name, make, reason] of attacks) {
  t.test(`attack: ${name} → ${reason}`, async (t) => {
    const { status, jwt } = await present(await make());
    t.equal(status, 401, 'denied');
    t.strictSame(jwt.verified, false);
    t.equal(jwt.error, reason);
    t.notOk('claims' in jwt, 'unverified claims never reach the policy');
  });
}

t.test('a bearer scheme missing, or another scheme, counts as no token', async (t) => {
  t.match(await present('Basic dXNlcjpwYXNz', true), { status: 401, jwt: { error: 'missing' } });
  t.match(await present(`bearer ${await sign(rsa)}`, true), { status: 200 }, 'the scheme is case-insensitive');
});

t.test('configurations that would weaken verification are refused at start', async (t) => {
  const hooks = { log: { info() {}, warn() {}, error() {} }, onFetchError() {} };
  const base = { header: 'authorization', maxTokenBytes: 8192, clockSkewSeconds: 0, cacheSize: 0, cacheSeconds: 1, jwksCacheSeconds: 1, jwksMinRefreshSeconds: 1, jwksTimeoutMs: 100 };
  const issuer = { issuer: ISSUER, audiences: [], forwardClaims: {} };
  t.throws(() => buildIssuers({ ...base, issuers: [{ ...issuer, jwks: { keys: [rsa.jwk] }, algorithms: ['RS256', 'HS256'] }] }, hooks), /HMAC algorithms \(HS256\) are not allowed with a public key set/);
  t.throws(() => buildIssuers({ ...base, issuers: [{ ...issuer, secretFile: join(dir, 'hmac.key'), algorithms: ['RS256'] }] }, hooks), /only takes HS256/);
  t.throws(() => buildIssuers({ ...base, issuers: [{ ...issuer, algorithms: ['RS256'] }] }, hooks), /exactly one of/);
  await writeFile(join(dir, 'short.key'), 'short');
  t.throws(() => buildIssuers({ ...base, issuers: [{ ...issuer, secretFile: join(dir, 'short.key'), algorithms: ['HS256'] }] }, hooks), /at least 32 bytes/);
});
