// Portcullis' Pod Security rules against the real thing: the PodSecurity admission plugin of the test API
// server (k8s.io/pod-security-admission at the version tools/kube pins). Every object of the corpus
// (test/podsecurity/corpus.ts) is sent twice to a namespace labelled for a level and version: once as the
// admin, judged by the plugin alone, and once as the one user the plugin exempts, judged by Portcullis alone
// (its webhook matches that user only). Pods are compared refusal with refusal; the plugin only warns about
// pod templates, so a Deployment's warnings are compared with Portcullis' refusal of it. Agreement means the
// same set of reasons, not just the same yes or no.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import t from 'tap';
import { parse as parseYaml } from 'yaml';
import { InformerFacts } from '../../src/kube/facts.js';
import { loadKubeConfig, POD_SECURITY_EXEMPT_USER, sharedControlPlane } from '../helpers/controlplane.js';
import { dryRunClient, type DryRunAnswer } from '../helpers/kube-dry-run.js';
import { registerWebhook, urlClientConfig, type WebhookConfiguration } from '../helpers/kube-webhooks.js';
import { ROOT } from '../helpers/paths.js';
import { asKind, collectionPath } from '../helpers/workloads.js';
import { startHarness } from '../admission/service.js';
import { cases, LATEST, LEVELS, VERSIONS, type Case, type Level } from '../podsecurity/corpus.js';
import { pluginReasons, podSecurityOverlay, portcullisReasons } from '../podsecurity/verdicts.js';

t.setTimeout(900_000);

const id = randomBytes(4).toString('hex');
const testLabel = 'portcullis.test/pod-security-differential';
const exempt = { user: POD_SECURITY_EXEMPT_USER, groups: ['system:masters'] };

const plane = await sharedControlPlane();
const kc = loadKubeConfig(plane);
const core = kc.makeApiClient(CoreV1Api);

/** A namespace per level and version label; `latest` is no version label at all (the plugin's default). */
interface Target {
  level: Level | 'privileged';
  version: string;
  namespace: string;
}
const targets = new Map<string, Target>();
function target(level: Level, version: string): Target {
  const key = `${level}-${version}`;
  let tg = targets.get(key);
  if (!tg) {
    tg = { level, version, namespace: `pss-${level}-${version.replace('.', '-')}-${id}` };
    targets.set(key, tg);
  }
  return tg;
}

/**
 * What is sent where: each level and version's corpus in its own namespace as Pods; the cases a version
 * added, one version earlier (every change of a check lies on such a boundary); Deployments at the first
 * version, at 1.25 and at latest; CronJobs at latest; the restricted corpus at privileged, where nothing is
 * refused.
 */
interface Run {
  target: Target;
  cases: Case[];
  kinds: Kind[];
}
type Kind = 'Pod' | 'Deployment' | 'CronJob';
const runs: Run[] = [];
for (const level of LEVELS) {
  for (const minor of VERSIONS) {
    runs.push({ target: target(level, `v1.${minor}`), cases: cases(level, minor), kinds: minor === 0 || minor === 25 ? ['Pod', 'Deployment'] : ['Pod'] });
    if (minor > 0) runs.push({ target: target(level, `v1.${minor - 1}`), cases: cases(level, minor).filter((c) => c.since === minor), kinds: ['Pod'] });
  }
  runs.push({ target: target(level, 'latest'), cases: cases(level, LATEST), kinds: ['Deployment', 'CronJob'] });
}
runs.push({ target: { level: 'privileged', version: 'latest', namespace: `pss-privileged-${id}` }, cases: cases('restricted', LATEST), kinds: ['Pod'] });
const allTargets = [...targets.values(), runs[runs.length - 1]!.target];

for (const tg of allTargets) {
  const labels: Record<string, string> = { [testLabel]: id, 'pod-security.kubernetes.io/enforce': tg.level };
  if (tg.version !== 'latest') labels['pod-security.kubernetes.io/enforce-version'] = tg.version;
  await core.createNamespace({ body: { metadata: { name: tg.namespace, labels } } });
}
t.teardown(() => Promise.all(allTargets.map((tg) => core.deleteNamespace({ name: tg.namespace }).catch(() => undefined))).then(() => undefined));

// Portcullis reads the labels as in a cluster: from an informer on the same API server.
const silent = { info: () => {}, warn: () => {} };
const facts = new InformerFacts({ kc, resyncMs: 600_000, watchTimeoutSeconds: 60, retryMs: 500, log: silent });
facts.start();
t.teardown(() => facts.stop());
for (let i = 0; allTargets.some((tg) => facts.namespace(tg.namespace)?.labels[testLabel] !== id); i++) {
  if (i > 400) throw new Error('the informer never saw the test namespaces');
  await new Promise((r) => setTimeout(r, 50));
}

// Only the pod-security:* rules judge here: the corpus' Pods have no labels, service account or pinned images.
const h = await startHarness({ facts, config: { policy: { data: podSecurityOverlay([`pss-*-${id}`]) } } });
t.teardown(() => h.close());

const manifest = parseYaml(await readFile(join(ROOT, 'webhooks', 'validating.yaml'), 'utf8')) as WebhookConfiguration;
manifest.metadata = { name: `portcullis-pss-differential-${id}` };
for (const w of manifest.webhooks ?? []) {
  w.clientConfig = urlClientConfig(`https://127.0.0.1:${h.port}/validate`, h.ca);
  w.namespaceSelector = { matchLabels: { [testLabel]: id } };
  // Verdicts, not latency, are tested here: a busy machine must not turn a slow answer into a refusal.
  w.timeoutSeconds = 30;
  // The admin's requests are the plugin's alone.
  w.matchConditions = [{ name: 'pod-security-exempt-user', expression: `request.userInfo.username == '${POD_SECURITY_EXEMPT_USER}'` }];
}
const client = await dryRunClient(kc);
t.teardown(() => client.close());

const probeTarget = target('baseline', 'latest');
const probe: V1Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'probe' }, spec: { hostPID: true, containers: [{ name: 'c', image: 'registry.example.com/pss/pause:3.10' }] } };
const webhook = await registerWebhook(kc, manifest, {
  until: async () => (await client.create(`/api/v1/namespaces/${probeTarget.namespace}/pods`, probe, exempt)).message.includes('pod-security:hostNamespaces'),
});
t.teardown(() => webhook.remove());

/** The case as `kind`: its Pod, or a template of it (labelled for the workload's selector). */
function wrap(kind: Kind, pod: V1Pod): { path: (ns: string) => string; body: unknown } {
  const labelled = kind === 'Pod' ? pod : { ...pod, metadata: { ...pod.metadata, labels: { app: 'pss' } } };
  return { path: (ns) => collectionPath(kind, ns), body: asKind(kind, labelled) };
}

/** The plugin's reasons: of its refusal for a Pod, of its warning for a template. */
function plugin(kind: Kind, a: DryRunAnswer): Set<string> {
  if (a.status === 201) {
    const warning = a.warnings.find((w) => w.includes('would violate PodSecurity'));
    if (kind === 'Pod' && warning) throw new Error(`a warning for a Pod the enforce level allowed: ${warning}`);
    return (warning && pluginReasons(warning)) || new Set();
  }
  if (a.status === 403 && kind === 'Pod') {
    const reasons = pluginReasons(a.message);
    if (reasons) return reasons;
  }
  throw new Error(`the plugin answered ${a.status} ${a.message}`);
}

function portcullis(a: DryRunAnswer): Set<string> {
  if (a.status === 201) return new Set();
  if (a.status === 403 && a.message.includes('Portcullis denied the request')) return portcullisReasons(a.message);
  throw new Error(`Portcullis answered ${a.status} ${a.message}`);
}

const show = (s: Set<string>) => `[${[...s].sort().join(', ')}]`;

t.test('Portcullis and the PodSecurity admission plugin agree on every object', async (t) => {
  const jobs = runs.flatMap((run) => run.kinds.flatMap((kind) => run.cases.map((c) => ({ run, kind, c }))));
  const disagreements: string[] = [];
  const errors: string[] = [];
  let agreed = 0;
  let refused = 0;
  const byKind: Record<string, number> = {};
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const { run, kind, c } = jobs[next++]!;
      const { path, body } = wrap(kind, c.pod);
      const where = `${kind} ${c.name} (${c.level} v1.${c.minor} corpus) in ${run.target.level}:${run.target.version}`;
      try {
        const [byPlugin, byPortcullis] = await Promise.all([client.create(path(run.target.namespace), body), client.create(path(run.target.namespace), body, exempt)]);
        const want = plugin(kind, byPlugin);
        const got = portcullis(byPortcullis);
        byKind[kind] = (byKind[kind] ?? 0) + 1;
        if (want.size > 0) refused++;
        if (show(want) === show(got)) agreed++;
        else disagreements.push(`${where}: plugin ${show(want)}, Portcullis ${show(got)}`);
      } catch (err) {
        errors.push(`${where}: ${(err as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: 12 }, worker));
  const total = agreed + disagreements.length;
  t.comment(`Pod Security differential: ${total} objects (${Object.entries(byKind).map(([k, n]) => `${n} ${k}s`).join(', ')}) in ${allTargets.length} namespaces, ${refused} refused by the plugin; Portcullis agreed on ${agreed} of ${total}`);
  t.same(errors, [], 'every object was judged by both');
  t.same(disagreements.slice(0, 30), [], `${disagreements.length} disagreements`);
  t.equal(agreed, jobs.length, 'agreement on the whole corpus');
  t.ok(total >= 500, 'a corpus of at least 500 objects');
});
