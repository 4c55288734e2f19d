// The chart's RBAC is enough for everything the code does: the rendered ServiceAccount, Roles and
// bindings are applied for real, and two replicas run in Kubernetes mode with that service account's
// token (the test plane authorizes with RBAC). Secret creation, the caBundle in both webhook
// configurations (get/watch/update by name), leader and replica Leases, informers, default-deny
// AuthorizationPolicies and the posture audit (lists and watches of every judged kind, its OpenReports
// reports) must all work without a single 403.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { AdmissionregistrationV1Api, CoordinationV1Api, CoreV1Api, CustomObjectsApi, KubernetesObjectApi } from '@kubernetes/client-node';
import pino from 'pino';
import t from 'tap';
import { parse as parseYaml } from 'yaml';
import { parseConfig } from '../../src/server/config.js';
import { frontDoors } from '../../src/server/front-doors.js';
import { startKubernetesMode } from '../../src/server/kubernetes-mode.js';
import { startService } from '../../src/server/service.js';
import { X509Certificate } from 'node:crypto';
import { splitPems } from '../../src/certs/pem.js';
import { serviceAccountKubeConfig } from '../helpers/controlplane.js';
import { decodeSecrets, SdsClient } from '../helpers/sds-client.js';
import { installCrds } from '../helpers/kube-crds.js';
import { cluster, suffix, testNamespace, until } from '../kube/support.js';
import { CHART, find, render, requireHelm } from './chart-render.js';

t.setTimeout(240_000);
requireHelm();
const c = await cluster();
await installCrds(c.kc);
await installCrds(c.kc, join(CHART, 'crds'));
const ns = await testNamespace(t, c, 'rbac');
const release = `rbac-${suffix()}`;
// The posture audit only where this test looks: the plane is shared with other test files.
const docs = await render(ns, { 'defaultDeny.enabled': 'true', 'posture.namespaceSelector.matchLabels.rbac-posture': release }, release);
const fullname = `${release}-portcullis`;

// Applied for real: identity, permissions, and the webhook configurations whose names RBAC allows.
const objects = KubernetesObjectApi.makeApiClient(c.kc);
const wanted = ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'];
for (const doc of docs.filter((d) => wanted.includes(d.kind))) {
  const body = structuredClone(doc);
  if (doc.kind.endsWith('WebhookConfiguration')) {
    // Same names, but aimed at no namespace: the shared plane's other tests must not meet them.
    for (const w of body.webhooks) w.namespaceSelector = { matchLabels: { 'portcullis.test/none': release } };
  }
  const namespaced = ['ServiceAccount', 'Role', 'RoleBinding'].includes(doc.kind);
  if (namespaced) body.metadata.namespace = ns;
  await objects.create(body);
  // Namespaced ones go with the namespace; cluster-scoped ones must be removed from the shared plane.
  if (!namespaced) t.teardown(() => objects.delete(body).then(() => undefined, () => undefined));
}

const dir = await mkdtemp(join(tmpdir(), 'portcullis-rbac-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const sa = await serviceAccountKubeConfig(c.kc, ns, fullname, 3600);
const kubeconfig = join(dir, 'kubeconfig');
await writeFile(kubeconfig, sa.exportConfig());

const rendered = parseYaml(find(docs, 'ConfigMap', `${fullname}-config`)?.data['config.yaml'] as string) as Record<string, any>;
const lines: string[] = [];
const sink = new Writable({ write: (chunk: Buffer, _e, cb) => void (lines.push(chunk.toString()), cb()) });

const replica = async (identity: string) => {
  const config = parseConfig({
    ...rendered,
    log: { level: 'info' },
    admin: { host: '127.0.0.1', port: 0 },
    admission: { ...rendered.admission, host: '127.0.0.1', port: 0, injection: {} },
    authz: { enabled: false },
    sds: { ...rendered.sds, host: '127.0.0.1', port: 0 },
    audit: { sinks: [] },
    policy: {},
    kubernetes: { ...rendered.kubernetes, kubeconfig, namespace: ns, identity, leaderElection: { ...rendered.kubernetes.leaderElection, leaseDurationSeconds: 3, renewDeadlineSeconds: 2, retryPeriodSeconds: 0.5 } },
  });
  const log = pino({ level: 'info' }, sink);
  const kube = await startKubernetesMode(config, log);
  const service = await startService({ config, log, stdout: pino.destination({ dest: '/dev/null', sync: true }), frontDoors: frontDoors(config), ...kube.serviceOptions });
  kube.attach(service.ctx);
  t.teardown(() => service.stop().then(() => kube.stop()));
  return Object.assign(kube, { sdsPort: service.listeners.find((l) => l.name === 'sds')?.port ?? 0 });
};

t.test('two replicas run on the chart RBAC alone', async (t) => {
  const mesh = await testNamespace(t, c, 'rbac-mesh', { 'portcullis.io/injection': 'enabled', 'rbac-posture': release });
  await c.core.createNamespacedPod({ namespace: mesh, body: { metadata: { name: 'unlabelled' }, spec: { containers: [{ name: 'app', image: 'registry.example.com/app:1' }] } } });
  const kubes = await Promise.all(['a', 'b'].map(replica));
  const status = () => kubes.map((k) => k.serviceOptions.kubernetes?.() as { factsSynced: boolean; leader: { self: boolean } });
  await until('informers synced', () => status().every((s) => s.factsSynced));
  await until('a leader', () => status().some((s) => s.leader.self));

  const secret = await c.core.readNamespacedSecret({ name: rendered.tls.secret.name, namespace: ns });
  t.equal(secret.type, 'kubernetes.io/tls', 'the certificate Secret was created');
  const ca = Buffer.from(secret.data?.['ca.crt'] ?? '', 'base64').toString();
  const webhooks = c.kc.makeApiClient(AdmissionregistrationV1Api);
  await until('caBundle in both configurations', async () => {
    const m = await webhooks.readMutatingWebhookConfiguration({ name: fullname });
    const v = await webhooks.readValidatingWebhookConfiguration({ name: fullname });
    return [...(m.webhooks ?? []), ...(v.webhooks ?? [])].every((w) => Buffer.from(w.clientConfig.caBundle ?? '', 'base64').toString() === ca);
  });
  t.pass('the leader wrote the caBundle into both configurations');

  const leases = await c.kc.makeApiClient(CoordinationV1Api).listNamespacedLease({ namespace: ns });
  t.same(leases.items.map((l) => l.metadata?.name).sort(), [`${fullname}-leader`, `${fullname}-leader-replica-a`, `${fullname}-leader-replica-b`], 'leader and replica Leases');

  const policy = await until('default-deny created', () =>
    c.kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ group: 'security.istio.io', version: 'v1', namespace: mesh, plural: 'authorizationpolicies', name: 'default-deny' }),
  );
  t.same((policy as { spec: unknown }).spec, {}, 'deny-all: no selector, no rules');

  const read = await sa.makeApiClient(CoreV1Api).readNamespace({ name: mesh });
  t.equal(read.metadata?.labels?.['portcullis.io/injection'], 'enabled', 'a namespace the informer has not seen yet can be read by name');
  const denied = await sa.makeApiClient(CoreV1Api).listNamespacedSecret({ namespace: ns }).then(() => 200, (err: { code?: number }) => err.code);
  t.equal(denied, 403, 'and the token really is limited: listing Secrets is refused');

  const report = await until('the posture report of the mesh namespace', () =>
    c.kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ group: 'openreports.io', version: 'v1alpha1', namespace: mesh, plural: 'reports', name: 'portcullis-posture' }),
  ) as { results: Array<{ policy: string }> };
  t.ok(report.results.some((r) => r.policy === 'required-labels'), 'the leader audited the Pod and wrote its report');
  await until('the ClusterReport', () => c.kc.makeApiClient(CustomObjectsApi).getClusterCustomObject({ group: 'openreports.io', version: 'v1alpha1', plural: 'clusterreports', name: 'portcullis-posture' }));
  // SDS: the API server reviews a proxy's token for Portcullis (create tokenreviews), and the SVID comes from the Secret's CA.
  await c.core.createNamespacedServiceAccount({ namespace: mesh, body: { metadata: { name: 'app' } } });
  const pod = await c.core.createNamespacedPod({ namespace: mesh, body: { metadata: { name: 'app' }, spec: { serviceAccountName: 'app', automountServiceAccountToken: false, containers: [{ name: 'app', image: 'registry.example.com/app:1.0.0' }] } } });
  const token = await c.core.createNamespacedServiceAccountToken({
    namespace: mesh,
    name: 'app',
    body: { spec: { audiences: [rendered.sds.audience ?? 'portcullis'], expirationSeconds: 600, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'app', uid: pod.metadata?.uid } } },
  });
  const client = new SdsClient(kubes[0]?.sdsPort ?? 0, ca, fullname);
  t.teardown(() => client.close());
  const [issued] = decodeSecrets(await client.fetch(token.status?.token ?? '', ['default']));
  const svid = new X509Certificate(issued?.cert ?? '');
  t.equal(svid.subjectAltName, `URI:spiffe://cluster.local/ns/${mesh}/sa/app`, 'an SVID over SDS, on the chart RBAC');
  t.ok(splitPems(ca).some((pem) => svid.checkIssued(new X509Certificate(pem))), 'from the mesh CA in the Secret');

  const forbidden = lines.filter((l) => /\b403\b|forbidden/i.test(l));
  t.same(forbidden, [], 'no request was refused');
});
