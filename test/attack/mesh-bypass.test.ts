// The "around the mesh" attack corpus (test/fixtures/attack/mesh-bypass/): every row sent through a real
// kube-apiserver with both webhooks registered (webhooks/*.yaml, scoped to this test's namespaces), and
// answered as a client sees it. A refusal must come from the right rule, and only from it: each row is
// otherwise a compliant object, so a refusal for anything else would hide whether the rule holds.
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppsV1Api, BatchV1Api, CoreV1Api, PatchStrategy, setHeaderOptions, type KubernetesObject, type V1Pod } from '@kubernetes/client-node';
import fastJsonPatch from 'fast-json-patch';
import t from 'tap';
import { parse as parseYaml } from 'yaml';
import { InformerFacts } from '../../src/kube/facts.js';
import { startHarness } from '../admission/service.js';
import { loadKubeConfig, sharedControlPlane } from '../helpers/controlplane.js';
import { compliantPod, proxies, refusal } from '../helpers/kube-pods.js';
import { registerWebhook, shippedWebhook } from '../helpers/kube-webhooks.js';
import { FIXTURES } from '../helpers/paths.js';

t.setTimeout(600_000);

interface Row {
  name: string;
  what: string;
  namespace: 'mesh' | 'plain';
  kind?: string;
  base?: 'compliant' | 'injected';
  patch?: fastJsonPatch.Operation[];
  operation?: 'create' | 'debug';
  container?: Record<string, unknown>;
  expect: 'allow' | { deny: string[] } | { mutate: string };
  file: string;
}

const CORPUS = join(FIXTURES, 'attack', 'mesh-bypass');
const files = (await readdir(CORPUS)).filter((f) => f.endsWith('.yaml')).sort();
const rows = (await Promise.all(files.map(async (f) => (parseYaml(await readFile(join(CORPUS, f), 'utf8')) as Omit<Row, 'file'>[]).map((r) => ({ ...r, file: f }))))).flat();

const id = randomBytes(4).toString('hex');
const testLabel = 'portcullis.test/mesh-bypass';
const ns = { mesh: `bypass-mesh-${id}`, plain: `bypass-plain-${id}` };

const plane = await sharedControlPlane();
const kc = loadKubeConfig(plane);
const core = kc.makeApiClient(CoreV1Api);
const apps = kc.makeApiClient(AppsV1Api);
const batch = kc.makeApiClient(BatchV1Api);
for (const [which, name] of Object.entries(ns)) {
  const labels = { [testLabel]: id, ...(which === 'mesh' ? { 'portcullis.io/injection': 'enabled' } : {}) };
  await core.createNamespace({ body: { metadata: { name, labels } } });
  t.teardown(() => core.deleteNamespace({ name }).then(() => undefined));
  await core.createNamespacedServiceAccount({ namespace: name, body: { metadata: { name: 'web' } } });
}

const facts = new InformerFacts({ kc, resyncMs: 600_000, watchTimeoutSeconds: 60, retryMs: 500, log: { info: () => {}, warn: () => {} } });
facts.start();
t.teardown(() => facts.stop());
for (let i = 0; facts.namespace(ns.mesh)?.labels['portcullis.io/injection'] !== 'enabled' || !facts.namespace(ns.plain); i++) {
  if (i > 200) throw new Error('the informer never saw the test namespaces');
  await new Promise((r) => setTimeout(r, 50));
}

// The operator's exemption that one row relies on: opting out of the sidecar is allowed for optout-exempt-*.
const policyData = { portcullis: { config: { exemptions: { rules: { 'sidecar-required': { objects: [`Pod/${ns.mesh}/optout-exempt-*`] } } } } } };
const h = await startHarness({ facts, config: { policy: { data: policyData } } });
t.teardown(() => h.close());

const manifest = (file: 'validating.yaml' | 'mutating.yaml', path: string) =>
  shippedWebhook(file, { port: h.port, ca: h.ca, path }, { label: testLabel, value: id, suffix: `bypass-${id}` });
const validating = await registerWebhook(kc, await manifest('validating.yaml', '/validate'), {
  until: async () => (await refusal(core.createNamespacedPod({ namespace: ns.mesh, dryRun: 'All', body: compliantPod('probe', (p) => (p.spec!.hostPID = true)) })))?.body.includes('no-host-namespaces') ?? false,
});
t.teardown(() => validating.remove());
const mutating = await registerWebhook(kc, await manifest('mutating.yaml', '/mutate'), {
  until: async () => proxies(await core.createNamespacedPod({ namespace: ns.mesh, dryRun: 'All', body: compliantPod('probe') })) === 1,
});
t.teardown(() => mutating.remove());

// The Pod the API server stores after injection: the base of the forged rows and the target of kubectl debug.
await core.createNamespacedPod({ namespace: ns.mesh, body: compliantPod('debug-target') });
const stored = await core.readNamespacedPod({ namespace: ns.mesh, name: 'debug-target' });
t.equal(proxies(stored), 1, 'the base Pod was injected');

function basePod(row: Row): V1Pod {
  if (row.base !== 'injected') return compliantPod(row.name);
  // What `kubectl get pod -o yaml`, applied again, sends: the stored spec with its defaults, labels and annotations.
  const spec = structuredClone(stored.spec!);
  delete spec.nodeName;
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: row.name, labels: stored.metadata?.labels, annotations: stored.metadata?.annotations }, spec };
}

const TEMPLATE_PATHS: Record<string, string[]> = {
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  ReplicationController: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};

/** The row's object: the base Pod patched, then wrapped as the template of a workload when the row names one. */
function objectOf(row: Row): KubernetesObject & { spec?: unknown } {
  const pod = fastJsonPatch.applyPatch(basePod(row), row.patch ?? [], true, false).newDocument;
  const kind = row.kind ?? 'Pod';
  if (kind === 'Pod') return pod;
  const path = TEMPLATE_PATHS[kind];
  if (!path) throw new Error(`${row.file}: unknown kind ${kind}`);
  const template = { metadata: { labels: pod.metadata?.labels, annotations: pod.metadata?.annotations }, spec: pod.spec };
  const selector = kind === 'ReplicationController' ? pod.metadata?.labels : { matchLabels: pod.metadata?.labels };
  const spec: Record<string, unknown> = kind === 'CronJob' ? { schedule: '@daily' } : kind === 'Job' ? {} : { selector };
  if (kind === 'StatefulSet') spec.serviceName = row.name;
  let node = spec;
  for (const key of path.slice(1, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
  node[path.at(-1)!] = template;
  const apiVersion = { Job: 'batch/v1', CronJob: 'batch/v1', ReplicationController: 'v1' }[kind] ?? 'apps/v1';
  return { apiVersion, kind, metadata: { name: row.name }, spec };
}

function send(row: Row, namespace: string): Promise<unknown> {
  if (row.operation === 'debug') {
    return core.patchNamespacedPodEphemeralcontainers(
      { name: 'debug-target', namespace, dryRun: 'All', body: { spec: { ephemeralContainers: [row.container] } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
  }
  const body = objectOf(row) as never;
  const args = { namespace, dryRun: 'All', body };
  switch (row.kind ?? 'Pod') {
    case 'Pod':
      return core.createNamespacedPod(args);
    case 'ReplicationController':
      return core.createNamespacedReplicationController(args);
    case 'Deployment':
      return apps.createNamespacedDeployment(args);
    case 'StatefulSet':
      return apps.createNamespacedStatefulSet(args);
    case 'DaemonSet':
      return apps.createNamespacedDaemonSet(args);
    case 'ReplicaSet':
      return apps.createNamespacedReplicaSet(args);
    case 'Job':
      return batch.createNamespacedJob(args);
    case 'CronJob':
      return batch.createNamespacedCronJob(args);
    default:
      throw new Error(`unknown kind ${row.kind}`);
  }
}

/** The rules the validating webhook denied the row's object with, from the audit event of its last decision. */
async function deniedRules(row: Row, namespace: string): Promise<string[]> {
  await h.service.ctx.audit.flush();
  const name = row.operation === 'debug' ? 'debug-target' : row.name;
  const event = h.events.findLast((e) => e.admission?.webhook === 'validate' && e.admission.namespace === namespace && e.admission.name === name && e.decision === 'deny');
  const result = (event?.result ?? []) as Array<{ rule: string; enforcement: string }>;
  return [...new Set(result.filter((v) => v.enforcement === 'deny').map((v) => v.rule))].sort();
}

let refused = 0;
let allowed = 0;
for (const row of rows) {
  t.test(`${row.file} ${row.name}: ${row.what}`, async (t) => {
    const namespace = ns[row.namespace];
    const err = await refusal(send(row, namespace));
    if (row.expect === 'allow') {
      t.equal(err, undefined, `allowed${err ? `, but refused: ${err.body}` : ''}`);
      allowed++;
      return;
    }
    t.ok(err, 'refused');
    if ('mutate' in row.expect) {
      t.equal(err?.code, 400, 'by the mutating webhook, as a bad request');
      t.match(err?.body, /admission webhook \\?"mutate\.portcullis\.io\\?" denied the request/);
      t.ok(err?.body.includes(JSON.stringify(row.expect.mutate).slice(1, -1)) || err?.body.includes(row.expect.mutate), `with "${row.expect.mutate}": ${err?.body}`);
    } else {
      t.equal(err?.code, 403, 'by the validating webhook');
      t.match(err?.body, /admission webhook \\?"validate\.portcullis\.io\\?" denied the request/);
      t.same(await deniedRules(row, namespace), [...row.expect.deny].sort(), `with exactly the rules ${row.expect.deny.join(', ')}`);
    }
    refused++;
  });
}

t.test('the corpus size', async (t) => {
  t.equal(refused + allowed, rows.length, 'every row ran');
  t.comment(`mesh-bypass corpus: ${refused} attacks refused with the right rule, ${allowed} legitimate objects allowed`);
});
