// A JWKS server on loopback over HTTPS (its own test CA) that rotates keys, is flooded with unknown kids and goes down.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { createCa, issueServing } from '../../src/certs/authority.js';
import { FIXTURES } from '../helpers/paths.js';
import { testBundle } from './bundles.js';
import { fromProtoJson } from './grpc-client.js';
import { decisionIdOf, startAuthz } from './harness.js';
import { AUDIENCE, ISSUER, sign, testKey, type TestKey } from './issuer.js';

const dir = await mkdtemp(join(tmpdir(), 'portcullis-jwks-test-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const ca = createCa('jwks test CA', 1);
const serving = issueServing(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], validityHours: 1 });
await writeFile(join(dir, 'ca.pem'), ca.cert);

const k1 = await testKey('k1');
const k2 = await testKey('k2');
let published: TestKey[] = [k1];
let status = 200;
let fetches = 0;
const jwks: Server = createServer({ cert: serving.cert, key: serving.key }, (_req, res) => {
  fetches++;
  if (status !== 200) {
    res.writeHead(status).end('unavailable');
    return;
  }
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ keys: published.map((k) => k.jwk) }));
});
await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
t.teardown(() => jwks.close());
const uri = `https://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;

const fixture = JSON.parse(await readFile(join(FIXTURES, 'authz', 'check-jwt-mtls.json'), 'utf8'));
const bundle = await testBundle(dir);

async function start(jwt: Record<string, unknown>) {
  const h = await startAuthz({ bundle, authz: { entrypoint: 'envoy/authz/result', jwt: { cacheSize: 0, ...jwt } } });
  t.teardown(() => h.close());
  return {
    h,
    async present(token: string): Promise<{ status: number; error?: string }> {
      const doc = structuredClone(fixture);
      doc.attributes.request.http.headers.authorization = `Bearer ${token}`;
      doc.attributes.request.http.path = '/api/v1/orders/user-1';
      doc.attributes.request.http.method = 'GET';
      const res = await h.client.check(fromProtoJson(doc));
      const jwtFacts = ((await h.event(decisionIdOf(res))).input as { mesh: { jwt: { error?: string } } }).mesh.jwt;
      return { status: res.status.code === 0 ? 200 : (res.denied_response?.status.code ?? 0), ...(jwtFacts.error ? { error: jwtFacts.error } : {}) };
    },
  };
}

t.test('rotation, unknown-kid floods and an outage', async (t) => {
  const { h, present } = await start({ issuers: [{ issuer: ISSUER, audiences: [AUDIENCE], jwksUri: uri }], jwksCaFile: join(dir, 'ca.pem'), jwksMinRefreshSeconds: 1, jwksCacheSeconds: 1 });
  t.strictSame(await present(await sign(k1)), { status: 200 }, 'keys fetched over HTTPS with the test CA');

  published = [k2];
  await new Promise((r) => setTimeout(r, 1100));
  const before = fetches;
  t.strictSame(await present(await sign(k2)), { status: 200 }, 'a new kid triggers a fetch and verifies');
  t.equal(fetches, before + 1);

  const floodStarted = Date.now();
  const flood = await Promise.all(Array.from({ length: 25 }, (_, i) => sign({ ...k2, kid: `forged-${i}` }).then(present)));
  t.ok(flood.every((r) => r.status === 401 && r.error === 'unknown_kid'), 'every forged kid refused');
  // jwksMinRefreshSeconds: 1 allows one fetch per started second of the flood, however many kids arrive.
  const allowedFetches = Math.ceil((Date.now() - floodStarted) / 1000);
  t.ok(fetches - before - 1 <= allowedFetches, `${fetches - before - 1} fetches for 25 unknown kids in ${Date.now() - floodStarted} ms`);

  status = 503;
  await new Promise((r) => setTimeout(r, 1200));
  t.strictSame(await present(await sign(k2, { jti: 'a' })), { status: 200 }, 'server down: the keys already known keep working');
  await new Promise((r) => setTimeout(r, 1200));
  t.strictSame(await present(await sign(k2, { jti: 'b' })), { status: 200 }, 'still, after the cache age passed');
  t.match(await present(await sign(k1)), { status: 401, error: 'unknown_kid' }, 'a rotated-out key is gone for good');
  const metrics = await h.service.ctx.metrics.registry.metrics();
  t.match(metrics, new RegExp(`portcullis_jwks_fetch_errors_total\\{issuer="${ISSUER}"\\} [1-9]`), 'failed fetches counted');

  status = 200;
  published = [k1, k2];
  await new Promise((r) => setTimeout(r, 1100));
  t.strictSame(await present(await sign(k1, { jti: 'c' })), { status: 200 }, 'back up: the new set is fetched');
});

t.test('a JWKS endpoint whose certificate is not trusted is never used', async (t) => {
  const { h, present } = await start({ issuers: [{ issuer: ISSUER, audiences: [AUDIENCE], jwksUri: uri }], jwksMinRefreshSeconds: 0 });
  t.strictSame(await present(await sign(k2)), { status: 401, error: 'keys_unavailable' });
  t.match(await h.service.ctx.metrics.registry.metrics(), new RegExp(`portcullis_jwks_fetch_errors_total\\{issuer="${ISSUER}"\\} [1-9]`));
});

t.test('a JWKS file is re-read when it changes', async (t) => {
  const file = join(dir, 'jwks.json');
  await writeFile(file, JSON.stringify({ keys: [k1.jwk] }));
  const { present } = await start({ issuers: [{ issuer: ISSUER, audiences: [AUDIENCE], jwksFile: file }] });
  t.strictSame(await present(await sign(k1)), { status: 200 });
  t.match(await present(await sign(k2)), { status: 401, error: 'unknown_kid' });
  await writeFile(file, JSON.stringify({ keys: [k2.jwk] }));
  const deadline = Date.now() + 5000;
  let r = await present(await sign(k2));
  while (r.status !== 200 && Date.now() < deadline) {
    await new Promise((res) => setTimeout(res, 200));
    r = await present(await sign(k2));
  }
  t.strictSame(r, { status: 200 }, 'the rotated file is picked up');
  await writeFile(file, '{ not json');
  await new Promise((res) => setTimeout(res, 1500));
  t.strictSame(await present(await sign(k2, { jti: 'x' })), { status: 200 }, 'a broken file keeps the last good keys');
});
