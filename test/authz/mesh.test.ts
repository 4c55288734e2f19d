// input.mesh from real cluster facts (the standalone facts file): identity, labels, namespace labels,
// client address and geography; then the built-in policy deciding on them, rate limits included.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { BUILTIN_BUNDLE, FIXTURES } from '../helpers/paths.js';
import { testBundle } from './bundles.js';
import { fromProtoJson } from './grpc-client.js';
import { decisionIdOf, startAuthz } from './harness.js';

const dir = await mkdtemp(join(tmpdir(), 'portcullis-mesh-test-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const fixture = JSON.parse(await readFile(join(FIXTURES, 'authz', 'check-jwt-mtls.json'), 'utf8'));
const facts = {
  namespaces: [
    { name: 'frontend', labels: { team: 'shop' } },
    { name: 'payments', labels: { team: 'money' } },
  ],
  pods: [
    { name: 'web-1', namespace: 'frontend', serviceAccount: 'web', ip: '10.44.1.17', region: 'eu-west', labels: { app: 'web' } },
    { name: 'prom-1', namespace: 'monitoring', serviceAccount: 'prometheus', ip: '10.44.2.2', labels: { app: 'prometheus', 'topology.kubernetes.io/region': 'us-east' } },
    { name: 'pay-1', namespace: 'payments', serviceAccount: 'payment-service', ip: '10.44.3.9', labels: { app: 'payment-service' } },
  ],
};

function request(options: { principal?: string | null; peer?: string; path?: string; headers?: Record<string, string> } = {}) {
  const doc = structuredClone(fixture);
  delete doc.attributes.request.http.headers.authorization;
  if (options.principal === null) delete doc.attributes.source.principal;
  else if (options.principal !== undefined) doc.attributes.source.principal = options.principal;
  if (options.peer) doc.attributes.source.address.socket_address.address = options.peer;
  if (options.path) doc.attributes.request.http.path = options.path;
  Object.assign(doc.attributes.request.http.headers, options.headers);
  return fromProtoJson(doc);
}

t.test('input.mesh from identity, Pod and namespace facts, client address and country', async (t) => {
  const h = await startAuthz({ bundle: await testBundle(dir), facts, cluster: { name: 'prod-eu', trustDomain: 'cluster.local' }, authz: { entrypoint: 'results/decision', geo: { xffNumTrustedHops: 2, countryRegions: { AU: 'apac' } } } });
  t.teardown(() => h.close());
  const mesh = async (opts: Parameters<typeof request>[0]) => ((await h.event(decisionIdOf(await h.client.check(request({ path: '/echo', ...opts }))))).input as { mesh: any }).mesh;

  const own = await mesh({ headers: { 'x-forwarded-for': '10.44.1.17' } });
  t.match(own, {
    source: { principal: 'spiffe://cluster.local/ns/frontend/sa/web', trust_domain: 'cluster.local', namespace: 'frontend', service_account: 'web', ip: '10.44.1.17', labels: { app: 'web' }, namespace_labels: { team: 'shop' }, country: 'internal', region: 'eu-west' },
    destination: { principal: 'spiffe://cluster.local/ns/payments/sa/payment-service', namespace: 'payments', labels: { app: 'payment-service' }, namespace_labels: { team: 'money' } },
    cluster: { name: 'prod-eu', trustDomain: 'cluster.local' },
    jwt: { verified: false, error: 'missing' },
  });

  const external = await mesh({});
  t.match(external.source, { ip: '203.0.113.77', country: 'AU', region: 'apac', labels: { app: 'web' } }, 'the client two hops away: its country and region, not the Pod\'s');

  const other = await mesh({ principal: 'spiffe://cluster.local/ns/monitoring/sa/prometheus', headers: { 'x-forwarded-for': '10.44.1.17' } });
  t.match(other.source, { namespace: 'monitoring', labels: { app: 'prometheus' }, region: 'us-east' }, 'the address belongs to another identity: the identity\'s Pod wins');
  t.strictSame(other.source.namespace_labels, {}, 'a namespace the facts do not know has no labels');

  const anonymous = await mesh({ principal: null, peer: '10.44.2.2', headers: { 'x-forwarded-for': '10.44.2.2' } });
  t.match(anonymous.source, { principal: '', namespace: '', labels: { app: 'prometheus' } }, 'no identity: labels by address only');
  t.notOk('identity_error' in anonymous.source);

  const bogus = await mesh({ principal: 'spiffe://cluster.local/ns/frontend/sa/web/../../admin', headers: { 'x-forwarded-for': '10.44.1.17' } });
  t.match(bogus.source, { principal: '', identity_error: 'unknown_identity', labels: { app: 'web' } });

  const unknownPeer = await mesh({ principal: null, peer: '10.99.0.1', headers: { 'x-forwarded-for': '8.8.8.8, 10.99.0.1' } });
  t.match(unknownPeer.source, { ip: '8.8.8.8', country: 'US' });
  t.strictSame(unknownPeer.source.labels, {});
  t.notOk('region' in unknownPeer.source, 'no Pod and no mapping: no region');
});

t.test('x-forwarded-client-cert is an identity only when configured as trusted', async (t) => {
  const xfcc = { 'x-forwarded-client-cert': 'By=spiffe://cluster.local/ns/edge/sa/gateway;URI=spiffe://cluster.local/ns/monitoring/sa/prometheus' };
  const untrusted = await startAuthz({ bundle: await testBundle(dir), facts, authz: { entrypoint: 'results/decision' } });
  t.teardown(() => untrusted.close());
  const u = ((await untrusted.event(decisionIdOf(await untrusted.client.check(request({ principal: null, path: '/echo', headers: xfcc }))))).input as { mesh: any }).mesh;
  t.equal(u.source.principal, '', 'ignored by default');
  const trusted = await startAuthz({ bundle: await testBundle(dir), facts, authz: { entrypoint: 'results/decision', identity: { trustXfcc: true } } });
  t.teardown(() => trusted.close());
  const m = ((await trusted.event(decisionIdOf(await trusted.client.check(request({ principal: null, path: '/echo', headers: xfcc }))))).input as { mesh: any }).mesh;
  t.match(m.source, { principal: 'spiffe://cluster.local/ns/monitoring/sa/prometheus', namespace: 'monitoring', labels: { app: 'prometheus' } });
  const peerWins = ((await trusted.event(decisionIdOf(await trusted.client.check(request({ path: '/echo', headers: xfcc }))))).input as { mesh: any }).mesh;
  t.equal(peerWins.source.principal, 'spiffe://cluster.local/ns/frontend/sa/web', 'the peer certificate Envoy verified wins over the header');
});

t.test('the built-in policy decides on these facts; its rate limit is enforced in process', async (t) => {
  const h = await startAuthz({ bundle: BUILTIN_BUNDLE, facts, authz: {} });
  t.teardown(() => h.close());
  const denied = await h.client.check(request());
  t.equal(denied.denied_response?.status.code, 403, 'frontend → payments: no rule allows it');
  t.match(await h.event(decisionIdOf(denied)), { path: 'portcullis/authz/decision', decision: 'deny', authz: { reason: 'default action deny' } });

  const monitoring = request({ principal: 'spiffe://cluster.local/ns/monitoring/sa/prometheus', peer: '10.44.2.2' });
  const started = Date.now();
  const first = await h.client.check(monitoring);
  t.equal(first.status.code, 0, 'allow-monitoring matches the caller\'s Pod labels');
  const event = await h.event(decisionIdOf(first));
  t.match(event.result, { allowed: true, rate_limit: { key: 'payment-service:spiffe://cluster.local/ns/monitoring/sa/prometheus', requests_per_minute: 1000, burst: 100 } });
  // 200 at once, so the bucket empties however slowly this machine answers: one by one, on a loaded machine
  // the 60 ms refill kept pace with the checks and the burst never ran out.
  const answers = await Promise.all(Array.from({ length: 200 }, () => h.client.check(monitoring)));
  const allowed = 1 + answers.filter((r) => r.status.code === 0).length;
  const limited = answers.find((r) => r.status.code !== 0);
  // 1,000 per minute refills a token every 60 ms while the checks run.
  const refilled = Math.ceil((Date.now() - started) / 60);
  t.ok(allowed >= 100 && allowed <= 100 + refilled, `the burst of 100, plus ${refilled} refilled (${allowed} allowed)`);
  t.equal(limited?.denied_response?.status.code, 429);
  t.match(await h.event(decisionIdOf(limited as never)), { decision: 'deny', authz: { status: 429, reason: /^rate limit payment-service:spiffe:/ } });
  t.equal((await h.client.check(request({ principal: 'spiffe://cluster.local/ns/payments/sa/batch', peer: '10.44.9.9' }))).status.code, 0, 'another caller has its own bucket (allow-same-namespace)');
});
