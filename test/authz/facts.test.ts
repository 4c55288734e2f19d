// Identity, geography, rate limits and result reading: the facts TypeScript settles before and after the policy.
import t from 'tap';
import { readDecision } from '../../src/authz/decision.js';
import { clientIp } from '../../src/authz/geo/client-ip.js';
import { CountryLookup } from '../../src/authz/geo/country.js';
import { isInternal } from '../../src/authz/geo/internal.js';
import { parseSpiffeId } from '../../src/authz/identity/spiffe.js';
import { xfccUri } from '../../src/authz/identity/xfcc.js';
import { extractToken } from '../../src/authz/jwt/token.js';
import { TokenBuckets } from '../../src/authz/rate-limit.js';

t.test('SPIFFE IDs: only spiffe://<td>/ns/<ns>/sa/<sa> is an identity', async (t) => {
  t.strictSame(parseSpiffeId('spiffe://cluster.local/ns/frontend/sa/web'), { principal: 'spiffe://cluster.local/ns/frontend/sa/web', trust_domain: 'cluster.local', namespace: 'frontend', service_account: 'web' });
  t.strictSame(parseSpiffeId('spiffe://prod-eu.example.org/ns/payments/sa/payment-service.v2')?.service_account, 'payment-service.v2');
  for (const bad of [
    undefined,
    '',
    'spiffe://cluster.local/ns/frontend/sa/web/',
    'spiffe://cluster.local/ns/frontend/sa/web/extra',
    'spiffe://cluster.local/ns/frontend/sa/',
    'spiffe://cluster.local/ns//sa/web',
    'spiffe://cluster.local/sa/web/ns/frontend',
    'spiffe://Cluster.Local/ns/frontend/sa/web',
    'spiffe://cluster.local/ns/Frontend/sa/web',
    'spiffe://cluster.local/ns/front%2Fend/sa/web',
    'spiffe://cluster.local/ns/frontend/sa/web?x=1',
    'spiffe://cluster.local/ns/frontend/sa/web#x',
    'spiffe://user@cluster.local/ns/frontend/sa/web',
    'spiffe://cluster.local:443/ns/frontend/sa/web',
    'spiffe://.cluster.local/ns/frontend/sa/web',
    'SPIFFE://cluster.local/ns/frontend/sa/web',
    'https://cluster.local/ns/frontend/sa/web',
    'spiffe://cluster.local/ns/-frontend/sa/web',
    ` spiffe://cluster.local/ns/frontend/sa/web`,
    'spiffe://cluster.local/ns/frontend/sa/web\n',
  ]) {
    t.equal(parseSpiffeId(bad), undefined, `refused: ${JSON.stringify(bad)}`);
  }
});

t.test('x-forwarded-client-cert: the URI of the element the nearest proxy added', async (t) => {
  t.equal(xfccUri('By=spiffe://cluster.local/ns/payments/sa/api;Hash=abc;URI=spiffe://cluster.local/ns/frontend/sa/web'), 'spiffe://cluster.local/ns/frontend/sa/web');
  t.equal(xfccUri('URI=spiffe://a/ns/x/sa/y,By=spiffe://b;URI=spiffe://cluster.local/ns/frontend/sa/web;Subject="CN=web,O=acme"'), 'spiffe://cluster.local/ns/frontend/sa/web', 'last element, commas inside quotes are not separators');
  t.equal(xfccUri('Hash=abc;Subject="x;URI=spiffe://fake/ns/a/sa/b"'), undefined, 'a URI inside a quoted value is not a field');
  t.equal(xfccUri('uri="spiffe://cluster.local/ns/a/sa/b"'), 'spiffe://cluster.local/ns/a/sa/b');
  t.equal(xfccUri(undefined), undefined);
});

t.test('client address with trusted hops, as Envoy xff_num_trusted_hops with use_remote_address', async (t) => {
  const xff = '198.51.100.1, 203.0.113.77, 10.44.0.5';
  t.equal(clientIp('10.44.1.17', xff, 0), '10.44.1.17', 'no trusted hop: the header is ignored');
  t.equal(clientIp('10.44.1.17', xff, 1), '10.44.0.5');
  t.equal(clientIp('10.44.1.17', xff, 2), '203.0.113.77');
  t.equal(clientIp('10.44.1.17', xff, 3), '198.51.100.1');
  t.equal(clientIp('10.44.1.17', xff, 4), '10.44.1.17', 'fewer entries than hops: the peer');
  t.equal(clientIp('10.44.1.17', 'not-an-ip, 10.44.0.5', 2), '10.44.1.17', 'garbage is not an address');
  t.equal(clientIp('10.44.1.17', undefined, 2), '10.44.1.17');
});

t.test('countries from the CC0 database; private, loopback and link-local ranges are internal', async (t) => {
  const geo = new CountryLookup();
  t.equal(geo.country('8.8.8.8'), 'US');
  t.equal(geo.country('81.2.69.160'), 'GB');
  t.equal(geo.country('2001:4860:4860::8888'), 'US');
  for (const ip of ['10.1.2.3', '172.20.0.1', '192.168.1.1', '127.0.0.1', '169.254.169.254', '100.64.0.1', '::1', 'fd00::1', 'fe80::1', '::ffff:10.0.0.1']) {
    t.equal(geo.country(ip), 'internal', ip);
  }
  t.equal(geo.country('not an ip'), undefined);
  t.equal(geo.country('8.8.8.8'), 'US', 'cached answers are the same');
  t.notOk(isInternal('172.32.0.1'), '172.32/16 is public');
  t.notOk(isInternal('::ffff:8.8.8.8'));
});

t.test('bearer tokens: scheme case-insensitive, other schemes are no token, a configured header is taken whole', async (t) => {
  t.equal(extractToken({ authorization: 'Bearer abc.def.ghi' }, 'authorization'), 'abc.def.ghi');
  t.equal(extractToken({ authorization: 'bearer   abc.def.ghi ' }, 'authorization'), 'abc.def.ghi');
  t.equal(extractToken({ authorization: 'Basic dXNlcjpwYXNz' }, 'authorization'), undefined);
  t.equal(extractToken({ authorization: 'Bearer a b' }, 'authorization'), 'a b', 'kept, to be refused as malformed');
  t.equal(extractToken({ 'x-jwt': 'abc.def.ghi' }, 'x-jwt'), 'abc.def.ghi');
  t.equal(extractToken({}, 'authorization'), undefined);
});

t.test('token buckets: burst, refill, 429 hint, idle eviction and a bound on buckets', async (t) => {
  const b = new TokenBuckets(3, 60_000);
  const limit = { key: 'payments:spiffe://cluster.local/ns/frontend/sa/web', requests_per_minute: 60, burst: 3 };
  const now = 1_000_000;
  t.strictSame([1, 2, 3].map(() => b.take(limit, now).allowed), [true, true, true]);
  t.strictSame(b.take(limit, now), { allowed: false, retryAfterSeconds: 1 });
  t.equal(b.take(limit, now + 999).allowed, false, 'not yet one token back');
  t.equal(b.take(limit, now + 2000).allowed, true, 'one token per second at 60/min');
  t.equal(b.take({ ...limit, key: 'other' }, now + 2000).allowed, true, 'keys do not share buckets');
  const slow = { key: 'slow', requests_per_minute: 1, burst: 1 };
  t.equal(b.take(slow, now + 2000).allowed, true);
  t.strictSame(b.take(slow, now + 2000), { allowed: false, retryAfterSeconds: 60 });
  t.equal(b.size, 3);
  b.take({ ...limit, key: 'fourth' }, now + 2000);
  t.equal(b.size, 3, 'the least recently used bucket made room');
  b.take({ ...limit, key: 'late' }, now + 200_000);
  t.equal(b.size, 1, 'idle buckets were dropped');
});

t.test('policy results read as opa-envoy-plugin reads them', async (t) => {
  t.match(readDecision(true), { allowed: true, bare: true, httpStatus: 200 });
  t.match(readDecision(false), { allowed: false, bare: true, httpStatus: 403 });
  const d = readDecision({ allowed: false, http_status: 401, headers: [{ 'www-authenticate': 'Bearer' }, { 'x-a': '1' }], body: 'no', reason: 'why', dynamic_metadata: { k: 1 } });
  t.match(d, { allowed: false, httpStatus: 401, body: 'no', reason: 'why', dynamicMetadata: { k: 1 } });
  t.strictSame(d.headers, [['www-authenticate', 'Bearer'], ['x-a', '1']]);
  const ok = readDecision({ allowed: true, headers: { 'x-user': 'alice' }, request_headers_to_remove: ['cookie'], response_headers_to_add: { 'x-served': 'yes' }, rate_limit: { key: 'k', requests_per_minute: 10, burst: 2 } });
  t.match(ok, { allowed: true, httpStatus: 200, requestHeadersToRemove: ['cookie'], rateLimit: { key: 'k', requests_per_minute: 10, burst: 2 } });
  t.strictSame(ok.responseHeadersToAdd, [['x-served', 'yes']]);
  for (const bad of [undefined, 'yes', [], {}, { allowed: 'true' }, { allowed: false, http_status: 999 }, { allowed: false, http_status: '403' }, { allowed: true, headers: { 'x-a': 1 } }, { allowed: true, headers: { 'bad name': 'x' } }, { allowed: true, headers: { 'x-a': 'a\r\nb' } }, { allowed: true, request_headers_to_remove: 'cookie' }, { allowed: false, body: 3 }, { allowed: true, rate_limit: { key: 'k', requests_per_minute: 0, burst: 1 } }]) {
    t.throws(() => readDecision(bad), { name: 'DecisionError' }, JSON.stringify(bad) ?? 'undefined');
  }
});
