// The manifests of webhooks/ as shipped, namespaceSelector included (only clientConfig is pointed at this
// process): which namespaces the API server sends to Portcullis is decided by the API server itself. A
// selector that reaches every namespace cannot go on the plane the other test files share, so this file
// starts a control plane of its own.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import t from 'tap';
import { parse as parseYaml } from 'yaml';
import { loadKubeConfig, startControlPlane } from '../helpers/controlplane.js';
import { registerWebhook, urlClientConfig, type WebhookConfiguration } from '../helpers/kube-webhooks.js';
import { compliantPod, proxies, refusal } from '../helpers/kube-pods.js';
import { ROOT } from '../helpers/paths.js';
import { startHarness } from '../admission/service.js';

t.setTimeout(300_000);

const id = randomBytes(3).toString('hex');
const mesh = `mesh-${id}`;
const plain = `plain-${id}`;

const plane = await startControlPlane();
t.teardown(() => plane.stop());
const kc = loadKubeConfig(plane);
const core = kc.makeApiClient(CoreV1Api);
for (const [name, labels] of [[mesh, { 'portcullis.io/injection': 'enabled' }], [plain, {}], ['portcullis-system', {}]] as const) {
  await core.createNamespace({ body: { metadata: { name, labels } } });
}
// No controller manager: the ServiceAccounts the Pods name are created by hand, in every namespace used.
for (const namespace of [mesh, plain, 'portcullis-system', 'kube-system', 'kube-public']) {
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'web' } } });
}

const h = await startHarness({ namespaces: [{ name: mesh, labels: { 'portcullis.io/injection': 'enabled' } }, { name: plain }] });
t.teardown(() => h.close());

const pod = compliantPod;
const privileged = (name: string) => pod(name, (p) => (p.spec!.containers[0]!.securityContext = { privileged: true }));

async function shipped(file: string, path: string): Promise<WebhookConfiguration> {
  const doc = parseYaml(await readFile(join(ROOT, 'webhooks', file), 'utf8')) as WebhookConfiguration;
  // A bare API server has no Service routing: the one change is the URL of this process.
  for (const w of doc.webhooks ?? []) w.clientConfig = urlClientConfig(`https://127.0.0.1:${h.port}${path}`, h.ca);
  return doc;
}

const validating = await registerWebhook(kc, await shipped('validating.yaml', '/validate'), {
  until: async () => (await refusal(core.createNamespacedPod({ namespace: plain, dryRun: 'All', body: privileged('probe') })))?.body.includes('no-privileged') ?? false,
});
t.teardown(() => validating.remove());
const mutating = await registerWebhook(kc, await shipped('mutating.yaml', '/mutate'), {
  until: async () => proxies(await core.createNamespacedPod({ namespace: mesh, dryRun: 'All', body: pod('probe') })) === 1,
});
t.teardown(() => mutating.remove());

t.test('an ordinary namespace is sent to both webhooks', async (t) => {
  await core.createNamespacedPod({ namespace: mesh, body: pod('web-1') });
  t.equal(proxies(await core.readNamespacedPod({ name: 'web-1', namespace: mesh })), 1, 'a mesh namespace: injected');
  const err = await refusal(core.createNamespacedPod({ namespace: plain, body: privileged('root') }));
  t.equal(err?.code, 403, 'an unlabelled namespace: judged all the same');
  t.match(err?.body, /no-privileged/);
});

t.test('kube-system, kube-public and portcullis-system are never sent', async (t) => {
  for (const namespace of ['kube-system', 'kube-public', 'portcullis-system']) {
    const mark = h.mark();
    // Labelled for injection and privileged: anything Portcullis saw, it would inject or refuse.
    const body = privileged(`root-${id}`);
    body.metadata!.labels!['sidecar.portcullis.io/inject'] = 'true';
    const created = await core.createNamespacedPod({ namespace, body });
    t.equal(proxies(created), 0, `${namespace}: not injected`);
    t.equal(created.spec?.containers[0]?.securityContext?.privileged, true, `${namespace}: a privileged Pod is stored`);
    await h.service.ctx.audit.flush();
    t.notOk(
      h.events.slice(mark).some((e) => e.admission?.namespace === namespace),
      `${namespace}: no review reached Portcullis`,
    );
  }
});
