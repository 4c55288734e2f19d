// The caBundle in the webhook configurations, against the real API server: written into every webhook
// of both configurations, restored after something overwrites it, followed when the bundle changes.
import { AdmissionregistrationV1Api, type V1MutatingWebhookConfiguration, type V1ValidatingWebhookConfiguration } from '@kubernetes/client-node';
import t from 'tap';
import { createCa } from '../../src/certs/authority.js';
import { CaBundlePublisher } from '../../src/kube/webhooks.js';
import { cluster, memoryLog, suffix, until } from './support.js';

t.setTimeout(120_000);
const c = await cluster();
const api = c.kc.makeApiClient(AdmissionregistrationV1Api);
const id = suffix();
const names = { mutating: `wh-mutate-${id}`, validating: `wh-validate-${id}` };
const nowhere = { url: 'https://127.0.0.1:1/never', caBundle: Buffer.from('placeholder').toString('base64') };
// Matches no namespace, so these configurations never get in the way of other test files.
const scope = { namespaceSelector: { matchLabels: { 'portcullis.test/none': id } }, sideEffects: 'None', admissionReviewVersions: ['v1'], failurePolicy: 'Ignore' };
const rules = [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'] }];

await api.createMutatingWebhookConfiguration({
  body: { metadata: { name: names.mutating }, webhooks: ['a', 'b'].map((w) => ({ name: `${w}.mutate.portcullis.test`, clientConfig: nowhere, rules, ...scope })) },
});
await api.createValidatingWebhookConfiguration({
  body: { metadata: { name: names.validating }, webhooks: [{ name: 'v.validate.portcullis.test', clientConfig: nowhere, rules, ...scope }] },
});
t.teardown(async () => {
  await api.deleteMutatingWebhookConfiguration({ name: names.mutating }).catch(() => undefined);
  await api.deleteValidatingWebhookConfiguration({ name: names.validating }).catch(() => undefined);
});

const bundles = async () => {
  const m = await api.readMutatingWebhookConfiguration({ name: names.mutating });
  const v = await api.readValidatingWebhookConfiguration({ name: names.validating });
  return [...(m.webhooks ?? []), ...(v.webhooks ?? [])].map((w) => Buffer.from(w.clientConfig.caBundle ?? '', 'base64').toString('utf8'));
};
const everywhere = (pem: string) => async () => (await bundles()).every((b) => b === pem);

const publisher = new CaBundlePublisher({ kc: c.kc, mutating: [names.mutating, `absent-${id}`], validating: [names.validating], resyncMs: 60_000, watchTimeoutSeconds: 30, retryMs: 200, log: memoryLog() });
publisher.start();
t.teardown(() => publisher.stop());

const first = createCa('test-ca-1', 1).cert;

t.test('the bundle is written into every webhook of both configurations', async (t) => {
  publisher.setBundle(first);
  await until('caBundle everywhere', everywhere(first));
  t.pass('all three webhooks carry the bundle');
  const since = await until('published', () => publisher.publishedSince());
  t.ok(since.getTime() <= Date.now(), 'published since a moment ago');
  t.match(publisher.status(), [
    { kind: 'mutating', name: names.mutating, present: true, current: true },
    { kind: 'mutating', name: `absent-${id}`, present: false, current: false },
    { kind: 'validating', name: names.validating, present: true, current: true },
  ], 'a configuration that does not exist is reported, and does not hold publication back');
});

t.test('an overwritten caBundle is restored', async (t) => {
  const m = await api.readMutatingWebhookConfiguration({ name: names.mutating });
  const tampered: V1MutatingWebhookConfiguration = structuredClone(m);
  for (const w of tampered.webhooks ?? []) w.clientConfig.caBundle = Buffer.from('tampered').toString('base64');
  await api.replaceMutatingWebhookConfiguration({ name: names.mutating, body: tampered });
  const v = await api.readValidatingWebhookConfiguration({ name: names.validating });
  const dropped: V1ValidatingWebhookConfiguration = structuredClone(v);
  for (const w of dropped.webhooks ?? []) delete w.clientConfig.caBundle;
  await api.replaceValidatingWebhookConfiguration({ name: names.validating, body: dropped });
  const at = Date.now();
  await until('restored', everywhere(first), 10_000, 50);
  t.pass(`both restored in ${Date.now() - at}ms`);
});

t.test('a new bundle replaces the old one; publication restarts', async (t) => {
  const both = `${first}${createCa('test-ca-2', 1).cert}`;
  publisher.setBundle(both);
  t.equal(publisher.publishedSince(), undefined, 'not published until written');
  await until('new bundle everywhere', everywhere(both));
  await until('published again', () => publisher.publishedSince());
  t.pass('the new bundle is in every webhook and published');
});

t.test('a configuration created later gets the bundle too', async (t) => {
  const late = `absent-${id}`;
  await api.createMutatingWebhookConfiguration({ body: { metadata: { name: late }, webhooks: [{ name: 'late.portcullis.test', clientConfig: nowhere, rules, ...scope }] } });
  t.teardown(() => api.deleteMutatingWebhookConfiguration({ name: late }).then(() => undefined, () => undefined));
  const current = (await bundles())[0];
  await until('late configuration patched', async () => {
    const w = (await api.readMutatingWebhookConfiguration({ name: late })).webhooks?.[0];
    return Buffer.from(w?.clientConfig.caBundle ?? '', 'base64').toString('utf8') === current;
  });
  t.pass('patched as soon as it appeared');
});
