// The posture audit end to end, on the real API server: objects that break rules are created while no
// webhook judges their namespaces; Portcullis starts in Kubernetes mode and its leader reports exactly those
// objects (OpenReports Reports and ClusterReport, the posture API, the metric, one audit event per verdict).
// Fixing an object clears its result; a bundle that relaxes a rule clears that rule's results; deleting an
// object drops it; Istio's proxy kinds are judged in the version each is served in; a replica that does not
// lead answers from the reports; a new leader picks up the reports without writing them again or announcing
// every verdict twice; a thousand violating Pods leave the report at its bound.
import { copyFile, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type V1Deployment } from '@kubernetes/client-node';
import t from 'tap';
import type { DecisionEvent } from '../../src/audit/event.js';
import { BUILTIN_BUNDLE } from '../../src/server/bundles.js';
import { tarGz, untarGz } from '../helpers/bundles.js';
import { installCrds } from '../helpers/kube-crds.js';
import { compliantPod } from '../helpers/kube-pods.js';
import { ROOT } from '../helpers/paths.js';
import { cluster, suffix, testNamespace, until } from '../kube/support.js';
import { startReplica, type Replica } from './kube-replicas.js';

t.setTimeout(600_000);
const c = await cluster();
await installCrds(c.kc);
await installCrds(c.kc, join(ROOT, 'charts', 'portcullis', 'crds'));
const apps = c.kc.makeApiClient(AppsV1Api);
const custom = c.kc.makeApiClient(CustomObjectsApi);
const id = suffix();
const label = 'portcullis.test/posture';
const reportName = `posture-${id}`;
const token = `token-${id}`;
process.env.PORTCULLIS_ADMIN_TOKEN = token;

const home = await testNamespace(t, c, 'posture-home');
// The restricted Pod Security level is warned about by default; these tests are about the floor rules, so
// their namespaces ask for baseline in every mode (the labels the Pod Security rules read).
const baseline = { 'pod-security.kubernetes.io/warn': 'baseline', 'pod-security.kubernetes.io/audit': 'baseline' };
const mesh = await testNamespace(t, c, 'posture-mesh', { ...baseline, [label]: id, 'portcullis.io/injection': 'enabled' });
const plain = await testNamespace(t, c, 'posture-plain', { ...baseline, [label]: id });
// Not selected by the audit: what breaks rules there is never reported.
const outside = await testNamespace(t, c, 'posture-outside');

const privileged = (name: string) => compliantPod(name, (p) => void ((p.spec?.containers[0] as { securityContext: object }).securityContext = { privileged: true }));
const deployment = (name: string, hostNetwork: boolean): V1Deployment => {
  const template = compliantPod('x');
  return {
    metadata: { name, labels: { app: 'web', version: 'v1' } },
    spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web', version: 'v1' } }, spec: { ...template.spec, containers: template.spec?.containers ?? [], hostNetwork } } },
  };
};
await c.core.createNamespacedPod({ namespace: mesh, body: compliantPod('no-sidecar') });
await c.core.createNamespacedPod({ namespace: mesh, body: privileged('privileged') });
await c.core.createNamespacedPod({ namespace: plain, body: compliantPod('good') });
await apps.createNamespacedDeployment({ namespace: plain, body: deployment('host-network', true) });
await c.core.createNamespacedService({ namespace: plain, body: { metadata: { name: 'bad-ports' }, spec: { ports: [{ name: 'web', port: 80 }] } } });
await custom.createNamespacedCustomObject({
  group: 'security.istio.io',
  version: 'v1',
  namespace: plain,
  plural: 'peerauthentications',
  body: { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'permissive' }, spec: { mtls: { mode: 'PERMISSIVE' } } },
});
await c.core.createNamespacedPod({ namespace: outside, body: privileged('privileged') });

// The bundle from a file, so a test can replace it the way git-sync or a CI pipeline would.
const dir = await mkdtemp(join(tmpdir(), 'portcullis-posture-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const bundleFile = join(dir, 'bundle.tar.gz');
await copyFile(BUILTIN_BUNDLE, bundleFile);

const config = {
  policy: { bundles: [{ name: 'builtin', path: bundleFile }] },
  posture: { enabled: true, namespaceSelector: { matchLabels: { [label]: id } }, reports: { name: reportName, writeDelaySeconds: 0.2, maxResults: 50 }, metricNamespaces: 2 },
  kubernetes: {
    leaderElection: { leaseName: `posture-${id}`, leaseDurationSeconds: 3, renewDeadlineSeconds: 2, retryPeriodSeconds: 0.5 },
    informers: { resyncSeconds: 300, watchTimeoutSeconds: 30, retrySeconds: 0.2 },
  },
};
const replicas: Replica[] = [];
t.teardown(() => Promise.all(replicas.map((r) => r.stop())).then(() => undefined));
const events: DecisionEvent[] = [];
const start = async (identity: string) => {
  // The line, as written (hash included), from before the replica may lead and sweep.
  const r = await startReplica(identity, c.plane.kubeconfigPath, home, config, (service) =>
    service.ctx.audit.onEvent((_e, line) => {
      const e = JSON.parse(line) as DecisionEvent;
      if (e.kind === 'posture' && [mesh, plain, outside].includes(e.posture?.namespace ?? '')) events.push({ ...e, labels: { ...e.labels, replica: identity } });
    }),
  );
  replicas.push(r);
  return r;
};
const first = await start('first');

interface ReportResult {
  policy: string;
  result: string;
  message: string;
  properties: Record<string, string>;
  resources: Array<{ kind: string; name: string; uid: string }>;
  timestamp: { seconds: number };
}
interface Report {
  metadata: { annotations?: Record<string, string>; resourceVersion: string };
  summary: { pass: number; fail: number; warn: number; error: number };
  results?: ReportResult[];
  configuration: { limits: { maxResults: number } };
  scope?: { kind: string; name: string };
}
const report = (namespace: string) => custom.getNamespacedCustomObject({ group: 'openreports.io', version: 'v1alpha1', namespace, plural: 'reports', name: reportName }) as Promise<Report>;
const clusterReport = () => custom.getClusterCustomObject({ group: 'openreports.io', version: 'v1alpha1', plural: 'clusterreports', name: reportName }) as Promise<Report>;
const findings = (r: Report) => (r.results ?? []).map((x) => `${x.resources[0]?.kind}/${x.resources[0]?.name} ${x.policy}`).sort();
const api = async (r: Replica, path: string, auth = token) => {
  const res = await fetch(`http://127.0.0.1:${r.adminPort}/api/v1${path}`, { headers: { authorization: `Bearer ${auth}` } });
  return { status: res.status, json: (await res.json()) as any };
};

const expected: Record<string, string[]> = {
  [mesh]: ['Pod/no-sidecar sidecar-required', 'Pod/privileged no-privileged', 'Pod/privileged sidecar-required'],
  [plain]: ['Deployment/host-network no-host-namespaces', 'PeerAuthentication/permissive peer-authentication-strict', 'Service/bad-ports service-port-protocol'],
};

t.test('the reports list exactly the objects that break rules, in the selected namespaces', async (t) => {
  for (const [ns, want] of Object.entries(expected)) {
    const r = await until(`the report of ${ns}`, async () => {
      const r = await report(ns).catch(() => undefined);
      return r && findings(r).length === want.length ? r : undefined;
    }, 60_000);
    t.same(findings(r), want, `${ns}: one result per object and rule`);
    t.same(r.scope, { apiVersion: 'v1', kind: 'Namespace', name: ns }, 'scoped to its namespace');
    t.equal(r.configuration.limits.maxResults, 50);
    for (const x of r.results ?? []) {
      t.equal(x.result, 'fail', 'deny rules fail');
      t.equal(x.properties.enforcement, 'deny');
      t.ok(x.resources[0]?.uid, 'the object is named with its uid');
      t.ok(x.timestamp.seconds > 1_700_000_000, 'with the time it was first seen');
    }
  }
  const plainReport = await report(plain);
  t.equal(plainReport.summary.pass, 1, 'the compliant Pod passes');
  t.equal(plainReport.summary.fail, 3);
  await t.rejects(report(outside), { code: 404 }, 'no report where the audit does not look');
  const cr = await clusterReport();
  t.equal(cr.summary.fail, 6, 'the ClusterReport sums every namespace');
  t.same(JSON.parse(cr.metadata.annotations?.['posture.portcullis.io/bundles'] ?? '{}'), first.service.ctx.engine.current().revisions);
  t.match(JSON.parse(cr.metadata.annotations?.['posture.portcullis.io/last-sweep'] ?? 'null'), { reason: 'start', endedAt: String });
});

t.test('the posture API, the metric and the audit trail say the same', async (t) => {
  const overview = await api(first, '/security/posture');
  t.equal(overview.status, 200);
  t.equal(overview.json.source, 'leader');
  t.equal(overview.json.leader, 'first');
  t.match(overview.json.lastSweep, { reason: 'start' });
  const ours = overview.json.namespaces.filter((n: { namespace: string }) => n.namespace === mesh || n.namespace === plain);
  t.match(ours, [
    { namespace: mesh, objects: 2, violating: 2, violations: { deny: 3 } },
    { namespace: plain, objects: 4, compliant: 1, violating: 3, violations: { deny: 3 } },
  ].sort((a, b) => (a.namespace < b.namespace ? -1 : 1)));
  t.notOk(overview.json.namespaces.some((n: { namespace: string }) => n.namespace === outside));
  t.match(overview.json.rules, [{ rule: String, enforcement: 'deny' }]);
  t.ok(overview.json.rules.some((r: { rule: string; objects: number }) => r.rule === 'sidecar-required' && r.objects >= 2));

  const detail = await api(first, `/security/posture/${mesh}`);
  t.same(
    detail.json.violations.map((v: { object: { kind: string; name: string }; rule: string }) => `${v.object.kind}/${v.object.name} ${v.rule}`).sort(),
    expected[mesh],
  );
  t.match(detail.json.violations[0], { enforcement: 'deny', message: String, since: String, object: { apiVersion: 'v1', uid: String } });
  const filtered = await api(first, `/security/posture/${mesh}?rule=no-privileged`);
  t.same(filtered.json.violations.map((v: { object: { name: string } }) => v.object.name), ['privileged']);
  t.equal((await api(first, `/security/posture/${outside}`)).status, 404);
  t.equal((await api(first, '/security/posture', 'wrong')).status, 401, 'behind the admin token');

  const metrics = await (await fetch(`http://127.0.0.1:${first.adminPort}/metrics`)).text();
  t.match(metrics, new RegExp(`portcullis_posture_violations\\{[^}]*rule="no-privileged",enforcement="deny",namespace="${mesh}"[^}]*\\} 1`));
  t.match(metrics, new RegExp(`portcullis_posture_violations\\{[^}]*rule="sidecar-required",enforcement="deny",namespace="${mesh}"[^}]*\\} 2`));

  await first.service.ctx.audit.flush();
  const violating = events.filter((e) => e.posture?.verdict === 'violating').map((e) => `${e.posture?.namespace}/${e.posture?.name}`).sort();
  t.same(violating, [`${mesh}/no-sidecar`, `${mesh}/privileged`, `${plain}/bad-ports`, `${plain}/host-network`, `${plain}/permissive`].sort(), 'one event per object whose verdict changed, none for the compliant one');
  const event = events.find((e) => e.posture?.name === 'privileged');
  t.match(event, { kind: 'posture', decision: 'deny', path: 'portcullis/admission/violations', posture: { kind: 'Pod', rules: ['no-privileged', 'sidecar-required'], previous_rules: [] }, hash: String });
  t.match((event?.input as { request?: { operation?: string } })?.request?.operation, 'CREATE', 'judged as its creation, with the input recorded');
});

t.test('fixing an object clears its result, and the change is one audit event', async (t) => {
  const before = events.length;
  await c.core.patchNamespacedService({ name: 'bad-ports', namespace: plain, body: [{ op: 'replace', path: '/spec/ports/0/name', value: 'http' }] }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch));
  const r = await until('the result gone', async () => {
    const r = await report(plain);
    return findings(r).some((f) => f.startsWith('Service/')) ? undefined : r;
  });
  t.same(findings(r), (expected[plain] ?? []).filter((f) => !f.startsWith('Service/')));
  t.equal(r.summary.pass, 2, 'the Service now passes');
  await until('the event', () => events.length > before);
  t.match(events.slice(before), [{ posture: { name: 'bad-ports', verdict: 'compliant', rules: [], previous_rules: ['service-port-protocol'] }, decision: 'allow' }]);
});

t.test('a bundle that relaxes a rule clears its results', async (t) => {
  // The built-in bundle with one more exemption in its data and a new revision, as a pipeline would publish it.
  const entries = await untarGz(await readFile(bundleFile));
  const data = JSON.parse(String(entries.find((e) => e.name === '/data.json')?.content));
  // The Pod Security check behind the floor rule judges a host namespace once the floor rule lets it be: both go.
  const exempt = { namespaces: [plain] };
  data.portcullis.config.exemptions.rules = { ...data.portcullis.config.exemptions.rules, 'no-host-namespaces': exempt, 'pod-security:hostNamespaces': exempt };
  const manifest = JSON.parse(String(entries.find((e) => e.name === '/.manifest')?.content));
  manifest.revision = `relaxed-${id}`;
  const next = entries.map((e) => (e.name === '/data.json' ? { ...e, content: JSON.stringify(data) } : e.name === '/.manifest' ? { ...e, content: JSON.stringify(manifest) } : e));
  await writeFile(`${bundleFile}.new`, await tarGz(next));
  await rename(`${bundleFile}.new`, bundleFile);
  const r = await until('the relaxed rule cleared', async () => {
    const r = await report(plain);
    return findings(r).some((f) => f.includes('no-host-namespaces') || f.includes('hostNamespaces')) ? undefined : r;
  }, 60_000);
  t.same(findings(r), ['PeerAuthentication/permissive peer-authentication-strict']);
  const cr = await until('the ClusterReport names the new revision', async () => {
    const cr = await clusterReport();
    return JSON.parse(cr.metadata.annotations?.['posture.portcullis.io/bundles'] ?? '{}').builtin === `relaxed-${id}` ? cr : undefined;
  });
  t.match(JSON.parse(cr.metadata.annotations?.['posture.portcullis.io/last-sweep'] ?? 'null'), { reason: 'policy' });
  t.ok(events.some((e) => e.posture?.name === 'host-network' && e.posture.verdict === 'compliant' && e.bundles.builtin?.revision === `relaxed-${id}`));
});

t.test('a deleted object leaves the report', async (t) => {
  await c.core.deleteNamespacedPod({ name: 'no-sidecar', namespace: mesh });
  const r = await until('gone', async () => {
    const r = await report(mesh);
    return findings(r).some((f) => f.includes('no-sidecar')) ? undefined : r;
  });
  t.same(findings(r), ['Pod/privileged no-privileged', 'Pod/privileged sidecar-required']);
  await until('the event', () => events.some((e) => e.posture?.name === 'no-sidecar' && e.posture.verdict === 'deleted'));
  t.pass('announced as deleted');
});

t.test('Istio kinds that change the proxy are judged, each in a version the API server serves it in', async (t) => {
  const proxy = await testNamespace(t, c, 'posture-proxy', { ...baseline, [label]: id });
  const kinds = {
    EnvoyFilter: { group: 'networking.istio.io', version: 'v1alpha3', plural: 'envoyfilters' },
    ProxyConfig: { group: 'networking.istio.io', version: 'v1beta1', plural: 'proxyconfigs' },
    WasmPlugin: { group: 'extensions.istio.io', version: 'v1alpha1', plural: 'wasmplugins' },
  };
  const objects = [
    ['EnvoyFilter', 'remove-rbac', { configPatches: [{ applyTo: 'HTTP_FILTER', match: { context: 'SIDECAR_INBOUND', listener: { filterChain: { filter: { name: 'envoy.filters.network.http_connection_manager', subFilter: { name: 'envoy.filters.http.rbac' } } } } }, patch: { operation: 'REMOVE' } }] }],
    ['ProxyConfig', 'root-ca', { environmentVariables: { ISTIO_META_TLS_SERVER_ROOT_CERT: '/etc/x/root.pem' } }],
    ['ProxyConfig', 'tuning', { concurrency: 2 }],
    ['WasmPlugin', 'headers', { url: 'oci://registry.example.com/plugins/headers:1.0.0', phase: 'STATS' }],
  ] as const;
  for (const [kind, name, spec] of objects) {
    const { group, version, plural } = kinds[kind];
    await custom.createNamespacedCustomObject({ group, version, namespace: proxy, plural, body: { apiVersion: `${group}/${version}`, kind, metadata: { name }, spec } });
  }
  const want = ['EnvoyFilter/remove-rbac proxy-extension-allowlist', 'ProxyConfig/root-ca proxy-extension-allowlist', 'WasmPlugin/headers proxy-extension-allowlist'];
  const r = await until('the proxy kinds reported', async () => {
    const r = await report(proxy).catch(() => undefined);
    return r && findings(r).length === want.length ? r : undefined;
  });
  t.same(findings(r), want);
  t.equal(r.summary.pass, 1, 'the ProxyConfig that only tunes the proxy passes');
  const detail = await api(first, `/security/posture/${proxy}`);
  t.same(
    detail.json.violations.map((v: { object: { apiVersion: string; kind: string } }) => `${v.object.kind} ${v.object.apiVersion}`).sort(),
    ['EnvoyFilter networking.istio.io/v1alpha3', 'ProxyConfig networking.istio.io/v1beta1', 'WasmPlugin extensions.istio.io/v1alpha1'],
    'each listed in the version it is served in, not the group\'s preferred v1',
  );
  const status = first.status() as { posture: { kinds: Array<{ kind: string; version?: string }> } };
  t.match(status.posture.kinds.filter((k) => k.kind.endsWith('EnvoyFilter') || k.kind.endsWith('DestinationRule')), [
    { kind: 'networking.istio.io/DestinationRule', version: 'v1' },
    { kind: 'networking.istio.io/EnvoyFilter', version: 'v1alpha3' },
  ]);
  // Removed again: without audited objects the namespace has no report (and the later tests count reports).
  for (const [kind, name] of objects) await custom.deleteNamespacedCustomObject({ ...kinds[kind], namespace: proxy, name });
  await until('the report removed', async () => (await report(proxy).then(() => false, (err: { code?: number }) => err.code === 404)));
  t.pass('gone with its objects');
});

t.test("the namespace facts of now: a namespace joining the mesh makes its Pods without a sidecar findings", async (t) => {
  await c.core.patchNamespace({ name: plain, body: [{ op: 'add', path: '/metadata/labels/portcullis.io~1injection', value: 'enabled' }] }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch));
  await until('the Pod reported', async () => findings(await report(plain)).includes('Pod/good sidecar-required'), 30_000);
  t.match(JSON.parse((await clusterReport()).metadata.annotations?.['posture.portcullis.io/last-sweep'] ?? 'null'), { reason: 'namespace' });
  await c.core.patchNamespace({ name: plain, body: [{ op: 'remove', path: '/metadata/labels/portcullis.io~1injection' }] }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch));
  await until('and cleared when it leaves', async () => !findings(await report(plain)).includes('Pod/good sidecar-required'), 30_000);
  t.pass('the verdicts follow the namespace labels');
});

t.test('a replica that does not lead answers from the reports', async (t) => {
  const second = await start('second');
  const overview = await until('the follower answers', async () => {
    const o = await api(second, '/security/posture');
    return o.status === 200 ? o : undefined;
  });
  t.equal(overview.json.source, 'reports');
  t.equal(overview.json.leader, 'first');
  const leader = await api(first, '/security/posture');
  const pick = (o: { json: { namespaces: Array<{ namespace: string }> } }) => o.json.namespaces.filter((n) => n.namespace === mesh || n.namespace === plain);
  t.same(pick(overview), pick(leader), 'the same namespace summaries');
  t.same(overview.json.bundles, leader.json.bundles);
  const detail = await api(second, `/security/posture/${plain}`);
  t.same(detail.json.violations.map((v: { rule: string }) => v.rule), ['peer-authentication-strict']);
  t.equal(detail.json.source, 'reports');
});

t.test('a new leader reads the reports: nothing is written again or announced twice', async (t) => {
  const second = replicas.find((r) => r.identity === 'second') as Replica;
  const before = events.filter((e) => e.labels.replica === 'second').length;
  await first.stop();
  const status = await until('the second replica leads and has swept', () => {
    const s = second.status() as { posture?: { lastSweep: unknown; reports: { writes: number; unchanged: number } } };
    return s.posture?.lastSweep ? s.posture : undefined;
  }, 60_000);
  // Both namespace reports and the ClusterReport looked at (the sweep ends before its reports are written).
  const reports = await until('its reports compared', () => {
    const r = (second.status() as { posture?: { reports: { writes: number; unchanged: number; pending: number } } }).posture?.reports;
    return r && r.writes + r.unchanged >= 3 && r.pending === 0 ? r : undefined;
  });
  t.equal(reports.writes, 1, 'only the ClusterReport (new leader, new sweep) is written');
  t.equal(reports.unchanged, 2, 'the namespace reports are left alone');
  t.equal(events.filter((e) => e.labels.replica === 'second').length, before, 'no verdict is announced again');
  t.ok(status, 'swept');
});

t.test('thousands of violations: the report stays at its bound, the summary counts them all', async (t) => {
  const second = replicas.find((r) => r.identity === 'second') as Replica;
  const bulk = await testNamespace(t, c, 'posture-bulk', { ...baseline, [label]: id });
  // Four violations each: privileged, host network, host PID, and an image tagged latest.
  const pods = 600;
  const violations = pods * 4;
  const names = Array.from({ length: pods }, (_, i) => `p${i}`);
  const bad = (name: string) =>
    compliantPod(name, (p) => {
      Object.assign(p.spec ?? {}, { hostNetwork: true, hostPID: true });
      Object.assign(p.spec?.containers[0] ?? {}, { image: 'registry.example.com/web:latest', securityContext: { privileged: true } });
    });
  for (let i = 0; i < names.length; i += 25) {
    await Promise.all(names.slice(i, i + 25).map((n) => c.core.createNamespacedPod({ namespace: bulk, body: bad(n) })));
  }
  const r = await until('every violation counted', async () => {
    const r = await report(bulk).catch(() => undefined);
    return r && r.summary.fail === violations ? r : undefined;
  }, 120_000);
  t.equal(r.results?.length, 50, 'results capped at maxResults');
  t.equal(r.metadata.annotations?.['posture.portcullis.io/results-omitted'], String(violations - 50), 'and says how many were left out');
  t.ok(JSON.stringify(r).length < 64 * 1024, `the report is small (${JSON.stringify(r).length} bytes)`);
  const overview = await api(second, '/security/posture');
  t.match(overview.json.namespaces.find((n: { namespace: string }) => n.namespace === bulk), { objects: pods, violating: pods, violations: { deny: violations } });
  t.ok(overview.json.rules.some((x: { rule: string; violations: number }) => x.rule === 'no-host-namespaces' && x.violations >= 2 * pods), 'the counts by rule are whole');
  const detail = await api(second, `/security/posture/${bulk}?limit=10`);
  t.equal(detail.json.violations.length, 10);
  t.equal(detail.json.omitted, violations - 10);

  // The metric names the two namespaces with most violations (metricNamespaces: 2) and sums the rest.
  const metrics = await until('the metric follows', async () => {
    const text = await (await fetch(`http://127.0.0.1:${second.adminPort}/metrics`)).text();
    return text.includes(`namespace="${bulk}"`) ? text : undefined;
  });
  const named = new Set([...metrics.matchAll(/^portcullis_posture_violations\{[^}]*namespace="([^"]+)"/gm)].map((m) => m[1]));
  t.ok(named.has('(other)'), 'the rest summed under (other)');
  t.equal(named.size, 3, 'two namespaces by name, and (other)');
});
