// The certificate Secret against the real API server: created once when replicas start together,
// every replica serves the same pair, an unusable Secret is repaired by the leader's rotator.
import t from 'tap';
import { TlsProvider } from '../../src/certs/provider.js';
import { certInfo, signedBy, splitPems } from '../../src/certs/pem.js';
import { initialState, rotationSettings } from '../../src/certs/rotation.js';
import { SecretTlsSource } from '../../src/certs/secret-source.js';
import { CertSecret } from '../../src/certs/secret-store.js';
import { decodeState } from '../../src/certs/state.js';
import { parseConfig } from '../../src/server/config.js';
import { serviceDnsNames } from '../../src/kube/client.js';
import { cluster, memoryLog, testNamespace } from './support.js';

t.setTimeout(180_000);
const c = await cluster();
const config = parseConfig({ mode: 'kubernetes', tls: { mode: 'secret' } });
const settings = rotationSettings(config.tls.secret);
const watch = { resyncMs: 60_000, watchTimeoutSeconds: 30, retryMs: 200 };

t.test('two replicas starting together create the Secret once and serve the same pair', async (t) => {
  const ns = await testNamespace(t, c, 'secret-once');
  const names = serviceDnsNames('portcullis', ns, 'cluster.local');
  let freshCalls = 0;
  const replica = () => {
    const log = memoryLog();
    const source = new SecretTlsSource({
      kc: c.kc,
      store: new CertSecret(c.kc, ns, 'portcullis-webhook-tls'),
      fresh: () => {
        freshCalls++;
        return initialState(settings, names);
      },
      startTimeoutMs: 30_000,
      watch,
      log,
    });
    const provider = new TlsProvider(config.tls, source);
    t.teardown(() => source.stop());
    return { source, provider, log };
  };
  const [a, b] = [replica(), replica()];
  await Promise.all([a.provider.start(), b.provider.start()]);

  const created = [...a.log.lines, ...b.log.lines].filter((l) => l.msg === 'certificate Secret created');
  t.equal(created.length, 1, 'exactly one replica created the Secret; the other read it');
  t.ok(freshCalls <= 2, 'at most both generated a candidate');
  t.equal(a.provider.current().cert, b.provider.current().cert, 'both serve the same certificate');
  t.equal(a.source.serving(), b.source.serving());

  const secret = await c.core.readNamespacedSecret({ name: 'portcullis-webhook-tls', namespace: ns });
  t.equal(secret.type, 'kubernetes.io/tls');
  const state = decodeState(secret.data);
  if (!state) return t.fail('the Secret does not decode');
  t.equal(state.serving.cert, a.provider.current().cert, 'what is served is what is stored');
  t.same(certInfo(state.serving.cert).names.sort(), [...names].sort(), 'SANs: service, service.ns, service.ns.svc, service.ns.svc.cluster.local');
  t.ok(signedBy(state.serving.cert, state.signer.cert), 'signed by the stored CA');
  t.equal(splitPems(a.provider.current().ca ?? '').length, 1, 'the trust bundle is the one CA');
  const lifetime = certInfo(state.serving.cert).notAfter.getTime() - Date.now();
  t.ok(lifetime > 23.9 * 3600_000 && lifetime <= 24 * 3600_000, 'rotationPeriod 24h by default');
});

t.test('a replica follows the Secret and swaps its certificate when it changes', async (t) => {
  const ns = await testNamespace(t, c, 'secret-follow');
  const names = serviceDnsNames('portcullis', ns, 'cluster.local');
  const store = new CertSecret(c.kc, ns, 'certs');
  const source = new SecretTlsSource({ kc: c.kc, store, fresh: () => initialState(settings, names), startTimeoutMs: 30_000, watch, log: memoryLog() });
  const provider = new TlsProvider(config.tls, source);
  const served: string[] = [];
  source.onServing = (serial) => served.push(serial);
  await provider.start();
  t.teardown(() => source.stop());
  const changes: string[] = [];
  provider.on('change', (m) => changes.push(certInfo(m.cert).serial));

  const next = initialState(settings, names);
  await store.replace(await store.read(), next);
  const serial = certInfo(next.serving.cert).serial;
  const deadline = Date.now() + 10_000;
  while (!changes.includes(serial) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  t.ok(changes.includes(serial), 'the new certificate was set on the provider');
  t.equal(provider.current().cert, next.serving.cert);
  t.same(served.slice(-1), [serial], 'and reported as served');
});

t.test('a replica waits for a usable Secret instead of serving garbage', async (t) => {
  const ns = await testNamespace(t, c, 'secret-bad');
  await c.core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'certs' }, data: { 'tls.crt': Buffer.from('nonsense').toString('base64') } } });
  const store = new CertSecret(c.kc, ns, 'certs');
  const source = new SecretTlsSource({ kc: c.kc, store, fresh: () => initialState(settings, ['x']), startTimeoutMs: 1500, watch, log: memoryLog() });
  t.teardown(() => source.stop());
  await t.rejects(new TlsProvider(config.tls, source).start(), /holds no usable certificate/);
});
