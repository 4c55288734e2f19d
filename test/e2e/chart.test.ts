// The Helm chart: lint and template with default and non-default values, what the rendered objects
// promise (security, probes, RBAC limited to what the code calls, names the code and RBAC agree on,
// webhooks equal to webhooks/*.yaml, a config file Portcullis accepts), then every object applied with a
// server-side dry-run to the real API server (cert-manager's and the ServiceMonitor's CRDs installed as
// permissive CRDs, as the test plane has neither operator).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubernetesObjectApi, PatchStrategy } from '@kubernetes/client-node';
import t from 'tap';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_VALUES } from '../../src/admission/injection/defaults.js';
import { SidecarTemplate } from '../../src/admission/injection/sidecar.js';
import type { DataObject } from '../../src/policy/data.js';
import { parseConfig } from '../../src/server/config.js';
import { installCrds } from '../helpers/kube-crds.js';
import { ROOT } from '../helpers/paths.js';
import { bootstrapOf, clusterTarget, sdsServiceOf } from '../helpers/sidecar.js';
import { cluster, testNamespace } from '../kube/support.js';
import { find, lint, render, requireHelm, type Manifest } from './chart-render.js';

t.setTimeout(240_000);
requireHelm();

const NON_DEFAULT = {
  'certificates.mode': 'certManager',
  'serviceMonitor.enabled': 'true',
  replicaCount: '3',
  'defaultDeny.enabled': 'true',
  'networkPolicy.egress.restrict': 'true',
  'admin.tokenSecret': 'portcullis-admin',
  'injection.template': 'containers: []',
  'podAntiAffinity': 'hard',
  nodeRegions: 'false',
  'injection.nativeSidecar': 'true',
  'injection.excludedNamespaces[0]': 'monitoring',
};

t.test('helm lint --strict passes with default and non-default values', async (t) => {
  for (const values of [{}, NON_DEFAULT]) {
    const { code, output } = await lint(values);
    t.equal(code, 0, `lint ${JSON.stringify(values)}: ${output.trim().split('\n').slice(-2).join(' ')}`);
  }
});

t.test('values.schema.json refuses what cannot work', async (t) => {
  for (const [key, value, message] of [
    ['replicaCount', '0', /replicaCount/],
    ['certificates.selfManaged.rotationPeriod', '1 day', /rotationPeriod/],
    ['certificates.mode', 'vault', /certificates\/mode/],
    ['webhooks.failurePolicy', 'Maybe', /failurePolicy/],
    ['unknownValue', 'x', /unknownValue/],
  ] as const) {
    const out = await render('x', { [key]: value }).catch((err: Error) => err);
    t.match(out instanceof Error ? out.message : 'rendered', message, `${key}=${value} refused`);
  }
});

const configOf = (docs: Manifest[], fullname = 'portcullis') => parseConfig(parseYaml(find(docs, 'ConfigMap', `${fullname}-config`)?.data['config.yaml'] as string), 'rendered config.yaml');

t.test('defaults: self-managed certificates, two hardened replicas, RBAC limited to the code', async (t) => {
  const ns = 'portcullis-system';
  const docs = await render(ns);
  const deployment = find(docs, 'Deployment', 'portcullis');
  const pod = deployment?.spec.template.spec;
  t.equal(deployment?.spec.replicas, 2, 'two replicas');
  t.equal(deployment?.spec.strategy.rollingUpdate.maxUnavailable, 0, 'never fewer than desired during a rollout');
  t.match(pod.securityContext, { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
  const container = pod.containers[0];
  t.match(container.securityContext, { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } });
  for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) t.equal(container[probe].httpGet.port, 'admin', `${probe} on the admin port`);
  t.equal(container.readinessProbe.httpGet.path, '/readyz');
  t.ok(container.resources.requests.cpu && container.resources.limits.memory, 'resources set');
  t.same(container.ports.map((p: { containerPort: number }) => p.containerPort).sort(), [15012, 8443, 9090, 9191, 9192]);
  t.same(container.env.map((e: { name: string }) => e.name).slice(0, 2), ['POD_NAME', 'POD_NAMESPACE'], 'identity and namespace from the Downward API');
  t.ok(pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution, 'replicas spread over nodes');
  t.match(find(docs, 'PodDisruptionBudget'), { spec: { minAvailable: 1 } });
  t.same(find(docs, 'Service', 'portcullis')?.spec.ports.map((p: { port: number }) => p.port), [8443, 9191, 9192, 9090, 15012]);
  t.equal(find(docs, 'Deployment', 'portcullis')?.spec.template.spec.containers[0].image, 'ghcr.io/portcullis/portcullis:0.1.0', 'the image the Dockerfile builds');
  t.notOk(find(docs, 'ServiceMonitor'), 'no ServiceMonitor by default');
  t.notOk(find(docs, 'Certificate'), 'no cert-manager objects by default');

  const config = configOf(docs);
  t.equal(config.mode, 'kubernetes');
  t.equal(config.tls.mode, 'secret');
  t.match(config.tls.secret, { name: 'portcullis-webhook-tls', rotationPeriod: '24h', earlyRotation: '4h' }, "the seed's rotation settings");
  t.equal(config.kubernetes.service, 'portcullis', 'the certificate names the Service');
  t.equal(config.policy.dataFile, '/etc/portcullis/policy/data.yaml');
  t.match(config.sds, { enabled: true, port: 15012, certificateTtl: '24h', renewBefore: '4h' }, 'SDS on, signing with the mesh CA of the Secret');
  t.notOk(config.sds.ca);

  // The names the code is told about are the names RBAC allows, and the objects the chart creates.
  const clusterRole = find(docs, 'ClusterRole');
  const role = find(docs, 'Role');
  const rules = [...clusterRole?.rules, ...role?.rules] as Array<{ apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }>;
  t.notOk(JSON.stringify(rules).includes('"*"'), 'no wildcards');
  const allowed = (resource: string, verb: string, name?: string) => rules.some((r) => r.resources.includes(resource) && r.verbs.includes(verb) && (!r.resourceNames || (name !== undefined && r.resourceNames.includes(name))));
  for (const verb of ['list', 'watch']) for (const resource of ['namespaces', 'pods', 'nodes']) t.ok(allowed(resource, verb), `${verb} ${resource}`);
  t.ok(allowed('namespaces', 'get'), 'get namespaces: one the informer has not seen yet is read by name');
  t.notOk(allowed('pods', 'update') || allowed('namespaces', 'update') || allowed('nodes', 'get') || allowed('pods', 'get'), 'informers only read');
  t.equal(config.kubernetes.informers.nodes, true, 'Node regions on by default, with the rights they need');
  for (const kind of ['mutating', 'validating'] as const) {
    const name = config.kubernetes.webhooks[kind][0];
    const k = kind === 'mutating' ? 'MutatingWebhookConfiguration' : 'ValidatingWebhookConfiguration';
    t.ok(find(docs, k, name), `${kind} configuration ${name} exists`);
    for (const verb of ['get', 'watch', 'update']) t.ok(allowed(`${kind}webhookconfigurations`, verb, name), `${verb} ${kind} ${name}`);
    t.notOk(allowed(`${kind}webhookconfigurations`, 'get', 'another'), 'and no other');
  }
  for (const verb of ['get', 'watch', 'update']) t.ok(allowed('secrets', verb, config.tls.secret.name), `${verb} the certificate Secret`);
  t.notOk(allowed('secrets', 'get', 'some-other-secret'), 'no other Secret is readable');
  t.notOk(allowed('secrets', 'list'), 'Secrets cannot be listed');
  for (const verb of ['get', 'list', 'create', 'update', 'delete']) t.ok(allowed('leases', verb), `${verb} leases`);
  t.notOk(allowed('authorizationpolicies', 'create'), 'no AuthorizationPolicy rights while defaultDeny is off');
  t.ok(allowed('tokenreviews', 'create'), "create tokenreviews: SDS asks the API server whose token a proxy presents");
  const withoutSds = await render(ns, { 'sds.enabled': 'false' });
  t.notOk((find(withoutSds, 'ClusterRole')?.rules as Array<{ resources: string[] }>).some((r) => r.resources.includes('tokenreviews')), 'and only while SDS is on');
  t.notOk(find(withoutSds, 'Service', 'portcullis')?.spec.ports.some((p: { port: number }) => p.port === 15012), 'nor its port');
  t.equal(role?.metadata.namespace, ns, 'Secret and Lease rights only in the release namespace');
});

t.test('the webhooks are those of webhooks/*.yaml, pointed at the Service, excluding kube-system, kube-public and the release namespace', async (t) => {
  const ns = 'mesh-control';
  const docs = await render(ns);
  for (const [file, kind] of [['mutating.yaml', 'MutatingWebhookConfiguration'], ['validating.yaml', 'ValidatingWebhookConfiguration']] as const) {
    const reference = parseYaml(await readFile(join(ROOT, 'webhooks', file), 'utf8')) as Manifest;
    const rendered = find(docs, kind);
    const [want, got] = [reference.webhooks[0], rendered?.webhooks[0]];
    t.same(got.rules, want.rules, `${kind}: same rules`);
    for (const field of ['name', 'admissionReviewVersions', 'sideEffects', 'timeoutSeconds', 'failurePolicy', 'matchPolicy', 'reinvocationPolicy']) t.same(got[field], want[field], `${kind}: same ${field}`);
    t.same(got.clientConfig.service, { ...want.clientConfig.service, namespace: ns }, `${kind}: the release's Service, same path and port`);
    t.notOk(got.clientConfig.caBundle, `${kind}: no caBundle in the chart (Portcullis writes it; helm upgrades leave it)`);
    const [expression] = want.namespaceSelector.matchExpressions;
    const values = expression.values.map((v: string) => (v === 'portcullis-system' ? ns : v));
    t.same(got.namespaceSelector, { matchExpressions: [{ ...expression, values }] }, `${kind}: the manifest's namespaceSelector, with the release namespace for portcullis-system`);
    t.same(got.namespaceSelector.matchExpressions[0].values, ['kube-system', 'kube-public', ns]);
  }
  const validating = find(docs, 'ValidatingWebhookConfiguration')?.webhooks[0];
  t.ok(
    validating.rules.some((r: { resources: string[]; operations: string[] }) => r.resources.includes('pods/ephemeralcontainers') && r.operations.includes('UPDATE')),
    'ephemeral containers (kubectl debug) are validated',
  );
  t.notOk(find(docs, 'MutatingWebhookConfiguration')?.webhooks[0].rules.some((r: { resources: string[] }) => r.resources.includes('pods/ephemeralcontainers')), 'and not mutated');
});

/** The rendered sidecar values file, and the proxy the built-in template makes with it. */
async function sidecarOf(docs: Manifest[], fullname: string) {
  const values = parseYaml(find(docs, 'ConfigMap', `${fullname}-injection`)?.data['values.yaml'] as string) as DataObject;
  const proxy = SidecarTemplate.load(undefined, [values]).sidecar({ namespace: 'app', name: 'web', serviceAccount: 'web', cluster: { name: 'c', trustDomain: 'cluster.local' }, overrides: {}, trustBundle: 'test-ca' }).containers[0] as unknown as { args: string[] };
  const bootstrap = bootstrapOf(proxy);
  return { values, address: clusterTarget(bootstrap, 'portcullis-authz'), sds: sdsServiceOf(bootstrap).target_uri as string };
}

t.test("the sidecars call ext_authz on this release's Service unless told otherwise", async (t) => {
  const docs = await render('mesh-control', {}, 'edge');
  const service = find(docs, 'Service', 'edge-portcullis');
  const grpc = service?.spec.ports.find((p: { name: string }) => p.name === 'grpc-authz');
  const { address, sds } = await sidecarOf(docs, 'edge-portcullis');
  t.equal(address, `edge-portcullis.mesh-control.svc:${grpc.port}`, "the release's fullname, namespace and gRPC port");
  const sdsPort = service?.spec.ports.find((p: { name: string }) => p.name === 'tls-sds');
  t.equal(sds, `edge-portcullis.mesh-control.svc:${sdsPort.port}`, "and its certificates from the release's SDS");
  t.not(address, DEFAULT_VALUES.authz.address, 'not the built-in default');
  t.equal((await sidecarOf(await render('portcullis-system'), 'portcullis')).address, 'portcullis.portcullis-system.svc:9191', 'the default release: the default address');

  const set = await sidecarOf(await render('mesh-control', { 'injection.values.authz.address': 'authz.example:9000', 'injection.values.proxy.logLevel': 'debug' }, 'edge'), 'edge-portcullis');
  t.equal(set.address, 'authz.example:9000', 'an address in injection.values wins');
  t.equal((set.values.proxy as DataObject).logLevel, 'debug', 'the other values are kept');
  const inConfig = await render('mesh-control', { 'config.admission.injection.values.authz.address': 'authz.example:9001' }, 'edge');
  t.match(configOf(inConfig, 'edge-portcullis').admission.injection.values, { authz: { address: 'authz.example:9001' } });
  t.notOk((await sidecarOf(inConfig, 'edge-portcullis')).values.authz, 'one set in config is not overridden by the values file');
});

t.test('injection settings: native sidecar and excluded namespaces', async (t) => {
  const defaults = configOf(await render('portcullis-system')).admission.injection;
  t.equal(defaults.nativeSidecar, false);
  t.same(defaults.excludedNamespaces, []);
  const docs = await render('mesh-control', { 'injection.nativeSidecar': 'true', 'injection.excludedNamespaces[0]': 'monitoring', 'injection.excludedNamespaces[1]': 'batch' }, 'edge');
  const injection = configOf(docs, 'edge-portcullis').admission.injection;
  t.equal(injection.nativeSidecar, true, 'admission.injection.nativeSidecar');
  t.same(injection.excludedNamespaces, ['monitoring', 'batch'], 'admission.injection.excludedNamespaces');
  t.equal(injection.valuesFile, '/etc/portcullis/injection/values.yaml', 'the values file is still read');
  t.equal(defaults.provider, 'portcullis');
  const istio = await render('mesh-control', { 'injection.provider': 'istio' }, 'edge');
  t.equal(configOf(istio, 'edge-portcullis').admission.injection.provider, 'istio', 'one switch: Istio injects its proxy');
  t.equal(configOf(istio, 'edge-portcullis').sds.enabled, false, 'and istiod issues its certificates: no SDS');
  t.notOk(find(istio, 'Service', 'edge-portcullis')?.spec.ports.some((p: { port: number }) => p.port === 15012), 'nor its port');
  const out = await render('x', { 'injection.nativeSidecar': 'yes' }).catch((err: Error) => err);
  t.match(out instanceof Error ? out.message : 'rendered', /nativeSidecar/, 'the schema wants a boolean');
});

t.test('node redirect mode: the node agent DaemonSet, reading Pods only, and the validation image', async (t) => {
  const ns = 'portcullis-system';
  const defaults = await render(ns);
  t.equal(configOf(defaults).admission.injection.redirect, 'init', 'init mode by default');
  t.notOk(find(defaults, 'DaemonSet'), 'and no node agent');

  const docs = await render(ns, { 'injection.redirect': 'node' });
  const config = configOf(docs);
  t.equal(config.admission.injection.redirect, 'node', 'one switch: admission.injection.redirect');
  const daemonSet = find(docs, 'DaemonSet', 'portcullis-node-agent');
  const pod = daemonSet?.spec.template.spec;
  t.equal(daemonSet?.metadata.namespace ?? ns, ns, "in Portcullis' own namespace");
  t.equal(pod.hostPID, true, "hostPID: the Pods' processes, for their network namespaces");
  t.notOk(pod.hostNetwork, 'not on the host network');
  const container = pod.containers[0];
  t.equal(container.image, find(docs, 'Deployment', 'portcullis')?.spec.template.spec.containers[0].image, "the service's image, the same CLI");
  t.same(container.args.slice(0, 3), ['node-agent', '--config', '/etc/portcullis/config/config.yaml'], "the service's configuration file");
  t.equal(container.args[container.args.indexOf('--iptables-mount-namespace') + 1], '/proc/1/ns/mnt', "the node's iptables");
  t.match(container.env.find((e: { name: string }) => e.name === 'NODE_NAME'), { valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }, 'its node from the Downward API');
  t.match(container.securityContext, { privileged: true, runAsUser: 0 });
  t.equal(container.readinessProbe.httpGet.path, '/healthz');
  t.same(pod.tolerations, [{ operator: 'Exists' }], 'on every node');
  t.equal(pod.priorityClassName, 'system-node-critical');
  t.same(pod.volumes.map((v: { name: string }) => v.name).sort(), ['config', 'injection', 'tmp'], 'no Secret: no CA key on the nodes');

  // Its own identity, reading Pods and nothing else; the service's selectors do not reach it.
  t.equal(pod.serviceAccountName, 'portcullis-node-agent');
  const role = find(docs, 'ClusterRole', 'portcullis-node-agent');
  t.same(role?.rules, [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }], 'get, list and watch Pods only');
  const binding = find(docs, 'ClusterRoleBinding', 'portcullis-node-agent');
  t.same(binding?.subjects, [{ kind: 'ServiceAccount', name: 'portcullis-node-agent', namespace: ns }]);
  t.equal(binding?.roleRef.name, 'portcullis-node-agent');
  const labels = daemonSet?.spec.template.metadata.labels as Record<string, string>;
  const selects = (selector: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);
  t.notOk(selects(find(docs, 'Service', 'portcullis')?.spec.selector), 'the Service sends it no webhook or ext_authz traffic');
  t.notOk(selects(find(docs, 'Deployment', 'portcullis')?.spec.selector.matchLabels), "nor is it the Deployment's");
  t.ok(selects(daemonSet?.spec.selector.matchLabels), 'its own selector matches it');

  // The validation container runs the chart's image, and the template loads in node mode with these values.
  const values = parseYaml(find(docs, 'ConfigMap', 'portcullis-injection')?.data['values.yaml'] as string) as DataObject;
  t.equal((values.validation as DataObject).image, container.image);
  const sidecar = SidecarTemplate.load(undefined, [values], 'node').sidecar({ namespace: 'app', name: 'web', serviceAccount: 'web', cluster: { name: 'c', trustDomain: 'cluster.local' }, overrides: {}, trustBundle: 'test-ca' });
  t.same(sidecar.initContainers.map((c) => [c.name, c.image]), [['portcullis-validation', container.image]]);

  t.notOk(find(await render(ns, { 'injection.redirect': 'node', 'injection.provider': 'istio' }), 'DaemonSet'), "under Istio's provider Portcullis injects nothing: no agent");
  const wrong = await render(ns, { 'injection.redirect': 'cni' }).catch((err: Error) => err);
  t.match(wrong instanceof Error ? wrong.message : 'rendered', /redirect/, 'the schema knows the modes');
});

t.test('non-default values: cert-manager, ServiceMonitor, three replicas, default-deny, restricted egress', async (t) => {
  const docs = await render('portcullis-system', NON_DEFAULT);
  const deployment = find(docs, 'Deployment');
  t.equal(deployment?.spec.replicas, 3);
  t.ok(deployment?.spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution, 'hard anti-affinity');
  const config = configOf(docs);
  t.match(config.tls, { mode: 'files', certFile: '/etc/portcullis/tls/tls.crt', keyFile: '/etc/portcullis/tls/tls.key' }, 'certificates from cert-manager files');
  t.same(config.kubernetes.webhooks, { mutating: [], validating: [] }, "cainjector owns the caBundle: Portcullis leaves it");
  t.equal(config.admin.tokenFile, '/etc/portcullis/admin/token');
  t.equal(config.admission.injection.templateFile, '/etc/portcullis/injection/template.yaml');
  t.equal(config.kubernetes.defaultDeny.enabled, true);
  const serving = find(docs, 'Certificate', 'portcullis-serving');
  t.same(serving?.spec.dnsNames, ['portcullis', 'portcullis.portcullis-system', 'portcullis.portcullis-system.svc', 'portcullis.portcullis-system.svc.cluster.local']);
  const volumes = deployment?.spec.template.spec.volumes as Array<{ name: string; secret?: { secretName: string } }>;
  t.equal(volumes.find((v) => v.name === 'tls')?.secret?.secretName, serving?.spec.secretName, 'the Deployment mounts the Certificate');
  for (const kind of ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']) {
    t.equal(find(docs, kind)?.metadata.annotations?.['cert-manager.io/inject-ca-from'], 'portcullis-system/portcullis-serving', `${kind}: cainjector annotation`);
  }
  t.ok(find(docs, 'Issuer', 'portcullis-ca') && find(docs, 'Certificate', 'portcullis-ca'), 'a CA issuer of its own');
  t.match(find(docs, 'ServiceMonitor'), { spec: { endpoints: [{ port: 'http-admin', path: '/metrics' }] } }, 'ServiceMonitor scrapes the admin port');
  const rules = [...(find(docs, 'ClusterRole')?.rules ?? []), ...(find(docs, 'Role')?.rules ?? [])] as Array<{ resources: string[]; verbs: string[] }>;
  t.ok(rules.some((r) => r.resources.includes('authorizationpolicies') && r.verbs.join() === 'create'), 'AuthorizationPolicy: create only');
  t.notOk(rules.some((r) => r.resources.includes('nodes')), 'no Node rights without Node regions');
  t.equal(configOf(docs).kubernetes.informers.nodes, false);
  t.same(config.sds.ca, { certFile: '/etc/portcullis/sds-ca/tls.crt', keyFile: '/etc/portcullis/sds-ca/tls.key' }, "SDS signs with the chart's own cert-manager CA");
  t.equal(volumes.find((v) => v.name === 'sds-ca')?.secret?.secretName, 'portcullis-ca', 'mounted from its Secret');
  t.match(find(docs, 'Certificate', 'portcullis-ca')?.spec.privateKey, { algorithm: 'RSA' }, 'an RSA CA, which SDS can sign with');
  const external = await render('portcullis-system', { ...NON_DEFAULT, 'certificates.certManager.issuerRef.name': 'corp-ca' }).catch((err: Error) => err);
  t.match(external instanceof Error ? external.message : 'rendered', /sds.caSecret: with certificates.certManager.issuerRef, name the Secret of an RSA CA/, 'an issuer of your own needs a CA Secret for SDS');
  const named = await render('portcullis-system', { ...NON_DEFAULT, 'certificates.certManager.issuerRef.name': 'corp-ca', 'sds.caSecret': 'corp-sds-ca' });
  t.equal((find(named, 'Deployment')?.spec.template.spec.volumes as Array<{ name: string; secret?: { secretName: string } }>).find((v) => v.name === 'sds-ca')?.secret?.secretName, 'corp-sds-ca');
  t.notOk(rules.some((r) => r.resources.includes('secrets')), 'no Secret rights: cert-manager writes it, the kubelet mounts it');
  t.notOk(rules.some((r) => r.resources.some((x) => x.endsWith('webhookconfigurations'))), 'no webhook configuration rights');
  t.same(find(docs, 'NetworkPolicy')?.spec.policyTypes, ['Ingress', 'Egress'], 'egress restricted on request');
});

t.test('every rendered object passes a server-side dry-run apply on the real API server', async (t) => {
  const c = await cluster();
  const crdDir = await mkdtemp(join(tmpdir(), 'portcullis-chart-crds-'));
  t.teardown(() => rm(crdDir, { recursive: true, force: true }));
  const permissive = (group: string, kind: string, plural: string) => `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: { name: ${plural}.${group} }
spec:
  group: ${group}
  scope: Namespaced
  names: { kind: ${kind}, plural: ${plural}, singular: ${kind.toLowerCase()}, listKind: ${kind}List }
  versions:
    - name: v1
      served: true
      storage: true
      schema: { openAPIV3Schema: { type: object, x-kubernetes-preserve-unknown-fields: true } }
`;
  await writeFile(join(crdDir, 'permissive.yaml'), [permissive('cert-manager.io', 'Certificate', 'certificates'), permissive('cert-manager.io', 'Issuer', 'issuers'), permissive('monitoring.coreos.com', 'ServiceMonitor', 'servicemonitors')].join('---\n'));
  await installCrds(c.kc, crdDir);
  const objects = KubernetesObjectApi.makeApiClient(c.kc);
  for (const [label, values] of [['default', {}], ['non-default', NON_DEFAULT], ['node-mode', { 'injection.redirect': 'node' }]] as const) {
    const ns = await testNamespace(t, c, 'chart');
    const docs = await render(ns, values, `dry-${label}`);
    const refused: string[] = [];
    for (const doc of docs) {
      const namespaced = !['ClusterRole', 'ClusterRoleBinding', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'].includes(doc.kind);
      const body = { ...doc, metadata: { ...doc.metadata, ...(namespaced ? { namespace: ns } : {}) } };
      await objects.patch(body, undefined, 'All', 'portcullis-chart-test', true, PatchStrategy.ServerSideApply).catch((err: { code?: number; body?: unknown }) => {
        refused.push(`${doc.kind}/${doc.metadata.name}: ${err.code} ${JSON.stringify(err.body)}`);
      });
    }
    t.same(refused, [], `${label}: all ${docs.length} objects accepted (${[...new Set(docs.map((d) => d.kind))].join(', ')})`);
  }
});
