// A namespace the informers have not seen yet (a namespace and its Pods applied together, a replica whose
// first list is not done) is read from the real API server before the review is decided: deciding on "no
// such namespace" would admit a mesh Pod without its sidecar. The informer here is stopped after its first
// list, so every namespace made afterwards is one it is behind on, deterministically.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import t from 'tap';
import { parse as parseYaml } from 'yaml';
import { InformerFacts } from '../../src/kube/facts.js';
import { loadKubeConfig, sharedControlPlane } from '../helpers/controlplane.js';
import { registerWebhook, urlClientConfig, type WebhookConfiguration } from '../helpers/kube-webhooks.js';
import { compliantPod, proxies } from '../helpers/kube-pods.js';
import { ROOT } from '../helpers/paths.js';
import { fixture, patchOf, podReview, startHarness } from '../admission/service.js';

t.setTimeout(300_000);

const id = randomBytes(4).toString('hex');
const testLabel = 'portcullis.test/namespace-lookup';
const plane = await sharedControlPlane();
const kc = loadKubeConfig(plane);
const core = kc.makeApiClient(CoreV1Api);
const silent = { info: () => {}, warn: () => {} };

const created: string[] = [];
t.teardown(() => Promise.all(created.map((name) => core.deleteNamespace({ name }).catch(() => undefined))).then(() => undefined));
async function namespace(suffix: string, labels: Record<string, string>): Promise<string> {
  const name = `nslookup-${id}-${suffix}`;
  await core.createNamespace({ body: { metadata: { name, labels: { [testLabel]: id, ...labels } } } });
  created.push(name);
  await core.createNamespacedServiceAccount({ namespace: name, body: { metadata: { name: 'web' } } });
  return name;
}

// Synced once, then deaf: what it knows is all it will ever know by itself.
const facts = new InformerFacts({ kc, resyncMs: 600_000, watchTimeoutSeconds: 60, retryMs: 500, log: silent });
facts.start();
await facts.namespaces.whenSynced(30_000);
await facts.namespaces.stop();
t.teardown(() => facts.stop());

const base = await fixture('pod-create-deployment.json');
const injected = (reply: { json: { response: { patch?: string } } }) => patchOf(reply.json.response).some((op) => /portcullis-proxy/.test(JSON.stringify(op.value ?? '')));

// Both ways a decision runs: on the main thread, and handed to a worker (the body travels there and back).
const inline = await startHarness({ facts, config: { admission: { workers: 1 } } });
t.teardown(() => inline.close());
const pooled = await startHarness({ facts, config: { admission: { workers: 2, inlineWhenIdle: false } } });
t.teardown(() => pooled.close());

t.test('a Pod created through the API server in a namespace the informer never saw gets the sidecar', async (t) => {
  const doc = parseYaml(await readFile(join(ROOT, 'webhooks', 'mutating.yaml'), 'utf8')) as WebhookConfiguration;
  doc.metadata = { name: `${doc.metadata?.name}-${id}` };
  for (const w of doc.webhooks ?? []) {
    w.clientConfig = urlClientConfig(`https://127.0.0.1:${pooled.port}/mutate`, pooled.ca);
    w.namespaceSelector = { matchLabels: { [testLabel]: id } };
  }
  const probe = await namespace('probe', { 'portcullis.io/injection': 'enabled' });
  const pod = compliantPod;
  const mutating = await registerWebhook(kc, doc, { until: async () => proxies(await core.createNamespacedPod({ namespace: probe, dryRun: 'All', body: pod('probe') })) === 1 });
  t.teardown(() => mutating.remove());

  const fresh = await namespace('mesh', { 'portcullis.io/injection': 'enabled' });
  t.equal(facts.namespace(fresh), null, 'the informer does not know the namespace by itself');
  const stored = await core.createNamespacedPod({ namespace: fresh, body: pod('web') });
  t.equal(proxies(stored), 1, 'stored with the sidecar');
  t.equal(facts.namespace(fresh)?.labels['portcullis.io/injection'], 'enabled', 'the namespace read is kept for the next review');

  const outside = await namespace('plain', {});
  t.equal(proxies(await core.createNamespacedPod({ namespace: outside, body: pod('web') })), 0, 'a namespace outside the mesh, read the same way, gets none');
});

for (const [name, h] of [['main thread', inline], ['worker', pooled]] as const) {
  t.test(`${name}: the review waits for the namespace read, then decides on its labels`, async (t) => {
    const fresh = await namespace(`direct-${name === 'worker' ? 'w' : 'm'}`, { 'portcullis.io/injection': 'enabled' });
    t.equal(facts.namespace(fresh), null);
    const reply = await h.post('/mutate', podReview(base, fresh));
    t.equal(reply.status, 200);
    t.equal(reply.json.response.allowed, true);
    t.ok(injected(reply), 'the sidecar is injected');
    const validated = await h.post('/validate', podReview(base, fresh));
    t.match(validated.json.response.status?.message ?? '', /sidecar-required/, 'and the validating webhook knows the namespace is in the mesh');

    const missing = await h.post('/mutate', podReview(base, `nslookup-${id}-absent`));
    t.equal(missing.json.response.allowed, true, 'a namespace that does not exist is decided as none');
    t.notOk(injected(missing));
  });
}

t.test('a namespace that cannot be read fails the review closed, with the reason', async (t) => {
  // An API server that is not there: the port was free a moment ago and nothing listens on it.
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const gone = new KubeConfig();
  gone.loadFromOptions({
    clusters: [{ name: 'gone', server: `https://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'gone', token: 'x' }],
    contexts: [{ name: 'gone', cluster: 'gone', user: 'gone' }],
    currentContext: 'gone',
  });
  const unreachable = new InformerFacts({ kc: gone, resyncMs: 600_000, watchTimeoutSeconds: 5, retryMs: 60_000, log: silent });
  const h = await startHarness({ facts: unreachable, config: { admission: { workers: 1 } } });
  t.teardown(() => h.close());
  const mark = h.mark();
  const reply = await h.post('/mutate', podReview(base, 'payments'));
  t.equal(reply.json.response.allowed, false);
  t.equal(reply.json.response.status.code, 500);
  t.match(reply.json.response.status.message, /namespace "payments" is not known yet and could not be read from the API server/);
  const [event] = await h.eventsSince(mark, 1);
  t.equal(event?.decision, 'error', 'recorded as a failure');
  t.equal(event?.admission?.uid, reply.json.response.uid);
});
