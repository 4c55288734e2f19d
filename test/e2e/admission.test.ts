// The admission webhook behind a real kube-apiserver: the manifests of webhooks/ (pointed at this
// process, scoped to this test's namespace), namespace labels from informers on the same API server, and
// every answer seen the way a client sees it, through @kubernetes/client-node.
import { randomBytes } from 'node:crypto';
import {
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  RbacAuthorizationV1Api,
  setHeaderOptions,
  type V1EphemeralContainer,
  type V1Pod,
} from '@kubernetes/client-node';
import t from 'tap';
import { loadKubeConfig, serviceAccountKubeConfig, sharedControlPlane } from '../helpers/controlplane.js';
import { meshNamespaceFacts } from './mesh-facts.js';
import { installCrds } from '../helpers/kube-crds.js';
import { registerWebhook, shippedWebhook } from '../helpers/kube-webhooks.js';
import { compliantPod, proxies, refusal } from '../helpers/kube-pods.js';
import { bootstrapOf } from '../helpers/sidecar.js';
import { startHarness } from '../admission/service.js';

t.setTimeout(300_000);

const id = randomBytes(4).toString('hex');
const namespace = `adm-e2e-${id}`;
const testLabel = 'portcullis.test/admission';

const plane = await sharedControlPlane();
const kc = loadKubeConfig(plane);
const core = kc.makeApiClient(CoreV1Api);
const custom = kc.makeApiClient(CustomObjectsApi);
await installCrds(kc);
await core.createNamespace({ body: { metadata: { name: namespace, labels: { [testLabel]: id, 'portcullis.io/injection': 'enabled' } } } });
t.teardown(() => core.deleteNamespace({ name: namespace }).then(() => undefined));
await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'web' } } });

const facts = await meshNamespaceFacts(t, kc, namespace);

// Decisions on two worker threads (every one handed over), as a busy multi-core Pod runs them; the namespaces reach them from the informer.
// WasmPlugins are allowlisted in this namespace (and only they): the allowlist works end to end.
const h = await startHarness({
  facts,
  config: {
    admission: { workers: 2, inlineWhenIdle: false },
    policy: { data: { portcullis: { config: { enforcement: { 'required-labels': 'warn' }, allowlists: { proxyExtensions: { WasmPlugin: [namespace] } } } } } },
  },
});
t.teardown(() => h.close());

/** A manifest of webhooks/, sent to this process and limited to this test's namespace (the plane is shared). */
const manifest = (file: 'validating.yaml' | 'mutating.yaml', path: string) =>
  shippedWebhook(file, { port: h.port, ca: h.ca, path }, { label: testLabel, value: id, suffix: `${id}` });

const pod = compliantPod;

const validating = await registerWebhook(kc, await manifest('validating.yaml', '/validate'), {
  until: async () =>
    (await refusal(core.createNamespacedPod({ namespace, dryRun: 'All', body: pod('probe', (p) => (p.spec!.hostPID = true)) })))?.body.includes('no-host-namespaces') ?? false,
});
t.teardown(() => validating.remove());
const mutating = await registerWebhook(kc, await manifest('mutating.yaml', '/mutate'), {
  until: async () => proxies(await core.createNamespacedPod({ namespace, dryRun: 'All', body: pod('probe') })) === 1,
});
t.teardown(() => mutating.remove());

t.test('a Pod created in a labelled namespace is stored with the sidecar', async (t) => {
  await core.createNamespacedPod({ namespace, body: pod('web-1') });
  const stored = await core.readNamespacedPod({ name: 'web-1', namespace });
  t.equal(proxies(stored), 1);
  t.equal(stored.spec?.initContainers?.[0]?.name, 'portcullis-init');
  t.same(stored.spec?.initContainers?.[0]?.securityContext?.capabilities?.add, ['NET_ADMIN', 'NET_RAW']);
  const proxy = stored.spec?.containers.find((c) => c.name === 'portcullis-proxy');
  t.equal(bootstrapOf(proxy).node.metadata.spiffe_id, `spiffe://cluster.local/ns/${namespace}/sa/web`, "the Pod's identity in its proxy's bootstrap");
  t.match(JSON.parse(stored.metadata?.annotations?.['sidecar.portcullis.io/status'] ?? '{}'), { containers: ['portcullis-proxy'], initContainers: ['portcullis-init'] });
  t.ok(stored.spec?.volumes?.some((v) => v.name === 'portcullis-token'));
  await h.service.ctx.audit.flush();
  const events = h.events.filter((e) => e.admission?.name === 'web-1' && e.admission.operation === 'CREATE');
  t.match(events.find((e) => e.admission?.webhook === 'mutate'), { decision: 'allow', result: { injected: true } }, 'the API server called /mutate');
  t.match(events.find((e) => e.admission?.webhook === 'validate'), { decision: 'allow' }, 'and /validate saw the injected Pod');
});

t.test('an update does not inject again', async (t) => {
  const current = await core.readNamespacedPod({ name: 'web-1', namespace });
  current.metadata!.labels = { ...current.metadata?.labels, tier: 'frontend' };
  await core.replaceNamespacedPod({ name: 'web-1', namespace, body: current });
  const stored = await core.readNamespacedPod({ name: 'web-1', namespace });
  t.equal(stored.metadata?.labels?.tier, 'frontend', 'the update went through');
  t.equal(proxies(stored), 1, 'still one proxy');
  t.equal(stored.spec?.initContainers?.length, 1, 'still one init container');
  await h.service.ctx.audit.flush();
  const update = h.events.find((e) => e.admission?.name === 'web-1' && e.admission.operation === 'UPDATE' && e.admission.webhook === 'mutate');
  t.match(update?.result, { injected: false, reason: /only new Pods/ });
});

t.test('a copy of an injected Pod is accepted as injected; a forged sidecar is refused', async (t) => {
  // What `kubectl get pod -o yaml`, edited and applied again, sends: the stored Pod with every default filled in.
  const stored = await core.readNamespacedPod({ name: 'web-1', namespace });
  const copy = (name: string, edit: (p: V1Pod) => void = () => {}): V1Pod => {
    const p: V1Pod = { metadata: { name, labels: stored.metadata?.labels, annotations: stored.metadata?.annotations }, spec: structuredClone(stored.spec) };
    delete p.spec!.nodeName;
    edit(p);
    return p;
  };
  const again = await core.createNamespacedPod({ namespace, body: copy('web-copy') });
  t.equal(proxies(again), 1, 'stored as it was, not injected twice');
  t.equal(again.spec?.initContainers?.length, 1);

  const forged = await refusal(
    core.createNamespacedPod({ namespace, body: copy('web-forged', (p) => (p.spec!.containers.find((c) => c.name === 'portcullis-proxy')!.command = ['sleep', 'infinity'])) }),
  );
  t.equal(forged?.code, 400);
  t.match(forged?.body, /carries sidecar\.portcullis\.io\/status but not the sidecar Portcullis injects for it \(\\?"portcullis-proxy\\?" differs in command\)/);
});

t.test('a privileged Pod is refused with the rule message', async (t) => {
  const err = await refusal(core.createNamespacedPod({ namespace, body: pod('root', (p) => (p.spec!.containers[0]!.securityContext = { privileged: true })) }));
  t.equal(err?.code, 403);
  t.match(err?.body, /admission webhook \\?"validate\.portcullis\.io\\?" denied the request: Portcullis denied the request \(1 rule\): no-privileged: container \\?"web\\?" runs privileged/);
  t.equal((await refusal(core.readNamespacedPod({ name: 'root', namespace })))?.code, 404, 'nothing stored');
});

t.test('a PERMISSIVE PeerAuthentication is refused', async (t) => {
  const err = await refusal(
    custom.createNamespacedCustomObject({
      group: 'security.istio.io',
      version: 'v1',
      namespace,
      plural: 'peerauthentications',
      body: { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'legacy' }, spec: { mtls: { mode: 'PERMISSIVE' } } },
    }),
  );
  t.equal(err?.code, 403);
  t.match(err?.body, /peer-authentication-strict: .*STRICT/);
});

t.test('a warn-mode rule reaches the client as a warning', async (t) => {
  const reply = await core.createNamespacedPodWithHttpInfo({ namespace, body: pod('no-version', (p) => delete p.metadata!.labels!.version) });
  t.equal(reply.httpStatusCode, 201, 'created');
  const warning = reply.headers.warning ?? '';
  t.match(warning, /299 - "required-labels: Pod is missing label \\?"version\\?"/);
});

t.test('a dry-run create is evaluated, answered and not stored', async (t) => {
  const mark = h.mark();
  const answered = await core.createNamespacedPod({ namespace, dryRun: 'All', body: pod('dry') });
  t.equal(proxies(answered), 1, 'the answer shows the injected Pod');
  t.equal((await refusal(core.readNamespacedPod({ name: 'dry', namespace })))?.code, 404, 'nothing stored');
  const denied = await refusal(core.createNamespacedPod({ namespace, dryRun: 'All', body: pod('dry-root', (p) => (p.spec!.hostNetwork = true)) }));
  t.match(denied?.body, /no-host-namespaces/, 'a dry run is refused like a real create');
  const events = await h.eventsSince(mark, 3);
  t.ok(events.every((e) => e.admission?.dry_run === true), 'recorded as dry runs');
});

t.test('ephemeral containers (kubectl debug) are judged by the Pod rules', async (t) => {
  await core.createNamespacedPod({ namespace, body: pod('debug-target') });
  // What kubectl debug sends: a strategic merge patch of the pods/ephemeralcontainers subresource.
  const debug = (container: V1EphemeralContainer) =>
    core.patchNamespacedPodEphemeralcontainers(
      { name: 'debug-target', namespace, body: { spec: { ephemeralContainers: [container] } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
  const err = await refusal(debug({ name: 'shell', image: 'registry.example.com/debug:1.0.0', securityContext: { privileged: true } }));
  t.equal(err?.code, 403, 'a privileged debug container is refused');
  t.match(err?.body, /admission webhook \\?"validate\.portcullis\.io\\?" denied the request: .*no-privileged: container \\?"shell\\?" runs privileged/);
  const unpinned = await refusal(debug({ name: 'shell', image: 'docker.io/library/busybox', securityContext: { allowPrivilegeEscalation: false } }));
  t.equal(unpinned?.code, 403, 'so is an image from anywhere');
  t.notOk((await core.readNamespacedPod({ name: 'debug-target', namespace })).spec?.ephemeralContainers?.length, 'nothing added');

  const added = await debug({ name: 'shell', image: 'registry.example.com/debug:1.0.0', securityContext: { allowPrivilegeEscalation: false } });
  t.same(
    added.spec?.ephemeralContainers?.map((c) => c.name),
    ['shell'],
    'a compliant one (allowed registry, pinned tag, not privileged) is added',
  );
  await h.service.ctx.audit.flush();
  t.match(
    h.events.find((e) => e.admission?.name === 'debug-target' && e.admission.operation === 'UPDATE' && e.decision === 'allow'),
    { admission: { webhook: 'validate' } },
    'through /validate',
  );
});

t.test('a Pod with generateName and no annotations at all is stored with the sidecar and its status', async (t) => {
  const body = pod('', (p) => {
    p.metadata = { generateName: 'gen-', labels: p.metadata?.labels };
  });
  t.notOk(body.metadata?.annotations, 'no annotations map');
  const created = await core.createNamespacedPod({ namespace, body });
  const name = created.metadata?.name ?? '';
  t.match(name, /^gen-[a-z0-9]{5}$/, 'named by the API server');
  const stored = await core.readNamespacedPod({ name, namespace });
  t.equal(proxies(stored), 1, 'injected');
  t.equal(stored.spec?.initContainers?.[0]?.name, 'portcullis-init');
  const annotations = stored.metadata?.annotations ?? {};
  t.match(JSON.parse(annotations['sidecar.portcullis.io/status'] ?? '{}'), { containers: ['portcullis-proxy'], initContainers: ['portcullis-init'] }, 'the status annotation, its key with a slash');
  t.equal(annotations['kubectl.kubernetes.io/default-container'], 'web');
});

t.test("a normal user cannot delete the namespace's default-deny AuthorizationPolicy", async (t) => {
  const ap = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name }, spec });
  const policies = { group: 'security.istio.io', version: 'v1', namespace, plural: 'authorizationpolicies' };
  await custom.createNamespacedCustomObject({ ...policies, body: ap('default-deny', {}) });
  await custom.createNamespacedCustomObject({
    ...policies,
    body: ap('allow-web', { selector: { matchLabels: { app: 'web' } }, rules: [{ from: [{ source: { principals: [`cluster.local/ns/${namespace}/sa/web`] } }] }] }),
  });

  // A ServiceAccount RBAC lets delete AuthorizationPolicies here, with a token of its own: only admission stands in the way.
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'developer' } } });
  await rbac.createNamespacedRole({ namespace, body: { metadata: { name: 'policy-editor' }, rules: [{ apiGroups: ['security.istio.io'], resources: ['authorizationpolicies'], verbs: ['get', 'list', 'delete'] }] } });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: { metadata: { name: 'developer' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'policy-editor' }, subjects: [{ kind: 'ServiceAccount', name: 'developer', namespace }] },
  });
  const asDeveloper = (await serviceAccountKubeConfig(kc, namespace, 'developer')).makeApiClient(CustomObjectsApi);

  const err = await refusal(asDeveloper.deleteNamespacedCustomObject({ ...policies, name: 'default-deny' }));
  t.equal(err?.code, 403);
  t.match(err?.body, /admission webhook \\?"validate\.portcullis\.io\\?" denied the request: .*authorization-policy-default-deny: AuthorizationPolicy \\?"default-deny\\?" is the default-deny policy of mesh namespace/);
  t.ok(await custom.getNamespacedCustomObject({ ...policies, name: 'default-deny' }), 'still there');
  await h.service.ctx.audit.flush();
  t.match(
    h.events.find((e) => e.admission?.name === 'default-deny' && e.admission.operation === 'DELETE'),
    { decision: 'deny', admission: { webhook: 'validate', user: `system:serviceaccount:${namespace}:developer` } },
    'judged as the developer',
  );

  await asDeveloper.deleteNamespacedCustomObject({ ...policies, name: 'allow-web' });
  t.equal((await refusal(custom.getNamespacedCustomObject({ ...policies, name: 'allow-web' })))?.code, 404, 'the same user deletes any other policy');
});


t.test('Istio kinds that change the proxy, and Istio\'s other spellings, are refused through the API server', async (t) => {
  const create = (group: string, version: string, plural: string, kind: string, spec: Record<string, unknown>, name = `x-${plural}`) =>
    refusal(custom.createNamespacedCustomObject({ group, version, namespace, plural, body: { apiVersion: `${group}/${version}`, kind, metadata: { name }, spec } }));
  const removeRbac = { configPatches: [{ applyTo: 'HTTP_FILTER', match: { context: 'SIDECAR_INBOUND', listener: { filterChain: { filter: { name: 'envoy.filters.network.http_connection_manager', subFilter: { name: 'envoy.filters.http.rbac' } } } } }, patch: { operation: 'REMOVE' } }] };
  const refused = [
    ['EnvoyFilter', await create('networking.istio.io', 'v1alpha3', 'envoyfilters', 'EnvoyFilter', removeRbac), /proxy-extension-allowlist: EnvoyFilter patches the Envoy configuration/],
    ['TrafficExtension', await create('extensions.istio.io', 'v1alpha1', 'trafficextensions', 'TrafficExtension', { phase: 'STATS', lua: { inlineCode: 'function envoy_on_request(h) end' } }), /proxy-extension-allowlist: TrafficExtension runs Wasm or Lua/],
    ['ProxyConfig', await create('networking.istio.io', 'v1beta1', 'proxyconfigs', 'ProxyConfig', { environment_variables: { ISTIO_META_TLS_SERVER_ROOT_CERT: '/etc/x/root.pem' } }), /proxy-extension-allowlist: ProxyConfig spec.environmentVariables sets ISTIO_META_TLS_SERVER_ROOT_CERT/],
    ['port_level_mtls', await create('security.istio.io', 'v1', 'peerauthentications', 'PeerAuthentication', { selector: { matchLabels: { app: 'web' } }, port_level_mtls: { '8080': { mode: 2 } } }), /peer-authentication-strict: PeerAuthentication spec.portLevelMtls\[\\?"8080\\?"\]\.mode is PERMISSIVE/],
    ['namespaces *sa', await create('security.istio.io', 'v1beta1', 'authorizationpolicies', 'AuthorizationPolicy', { rules: [{ from: [{ source: { namespaces: ['*sa'] } }] }] }), /authorization-policy-no-allow-all: AuthorizationPolicy spec\.rules\[0\]\.from\[0\]\.source\.namespaces contains \\?"\*sa\\?", which admits any caller/],
    ['action deny', await create('security.istio.io', 'v1', 'authorizationpolicies', 'AuthorizationPolicy', { action: 'deny', rules: [{}] }), /object-schema: AuthorizationPolicy spec\.action is \\?"deny\\?", but Istio reads it as one of ALLOW, AUDIT, CUSTOM, DENY/],
  ] as const;
  for (const [what, err, message] of refused) {
    t.equal(err?.code, 403, `${what}: refused`);
    t.match(err?.body, message, `${what}: by its rule`);
  }
  t.equal(await create('extensions.istio.io', 'v1alpha1', 'wasmplugins', 'WasmPlugin', { url: 'oci://registry.example.com/plugins/headers:1.0.0', phase: 'STATS' }), undefined, 'a WasmPlugin where an operator allowlisted it is created');
  t.equal(await create('networking.istio.io', 'v1beta1', 'proxyconfigs', 'ProxyConfig', { concurrency: 2 }, 'tuning'), undefined, 'a ProxyConfig that only tunes the proxy is created');
  t.equal(await create('security.istio.io', 'v1', 'peerauthentications', 'PeerAuthentication', { mtls: { mode: 3 } }, 'strict-by-number'), undefined, 'STRICT as its number is created');
});
