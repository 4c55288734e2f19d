import t from 'tap';
import fastJsonPatch from 'fast-json-patch';
import { mergeData } from '../../src/policy/data.js';
import { bootstrapOf, redirectOf } from '../helpers/sidecar.js';
import { fixture, patchOf, startHarness, podReview as makePodReview } from './service.js';

const h = await startHarness({
  namespaces: [
    { name: 'payments', labels: { 'portcullis.io/injection': 'enabled' } },
    { name: 'plain', labels: {} },
    { name: 'orders', labels: { 'portcullis.io/injection': 'enabled' } },
    { name: 'kube-system', labels: { 'portcullis.io/injection': 'enabled' } },
  ],
  config: {
    policy: {
      data: { portcullis: { config: { mutations: { seccompProfile: { enabled: true, type: 'RuntimeDefault' }, podLabels: { enabled: true, labels: { 'portcullis.io/managed': 'true' } } } } } },
    },
  },
});
t.teardown(() => h.close());

const base = await fixture('pod-create-deployment.json');
const podReview = (namespace: string, edit?: (pod: any) => void, request?: Record<string, unknown>) => makePodReview(base, namespace, edit, request);
const apply = (object: unknown, response: { patch?: string }) =>
  fastJsonPatch.applyPatch(structuredClone(object), patchOf(response) as fastJsonPatch.Operation[], true, false).newDocument as any;
const hasProxy = (pod: any) => pod.spec.containers.some((c: any) => c.name === 'portcullis-proxy');

t.test('a Pod of a mesh namespace gets the sidecar; the patch applies; the result passes validation', async (t) => {
  const review = podReview('payments');
  const reply = await h.post('/mutate', review);
  const r = reply.json.response;
  t.equal(r.uid, review.request.uid);
  t.equal(r.allowed, true);
  t.equal(r.patchType, 'JSONPatch');
  t.match(r.auditAnnotations, { 'sidecar-injected': 'true', 'injection-reason': 'namespace label portcullis.io/injection=enabled', 'decision-id': /.+/ });
  const pod = apply(review.request.object, r);
  t.ok(hasProxy(pod));
  t.equal(pod.spec.initContainers[0].name, 'portcullis-init');
  t.equal(pod.metadata.labels['portcullis.io/managed'], 'true', 'mutation policy ops follow the sidecar');
  t.ok(pod.metadata.annotations['sidecar.portcullis.io/status']);
  const proxy = pod.spec.containers.find((c: any) => c.name === 'portcullis-proxy');
  t.equal(bootstrapOf(proxy).node.metadata.spiffe_id, 'spiffe://cluster.local/ns/payments/sa/payment-service');

  // What the API server does next: the validating webhook sees the mutated Pod.
  const validated = structuredClone(review);
  validated.request.object = pod;
  const v = (await h.post('/validate', validated)).json.response;
  t.equal(v.allowed, true, `the injected Pod satisfies every rule: ${v.status?.message ?? ''}`);

  const event = await h.event(r.auditAnnotations['decision-id']);
  t.match(event, { path: 'portcullis/admission/patches', decision: 'allow', admission: { webhook: 'mutate', allowed: true }, result: { injected: true, reason: /namespace label/ } });
  t.match(event.result, { template: /^[0-9a-f]{12}$/, sidecar: ['add /spec/initContainers', 'add /spec/containers/-'], patches: [{ op: 'add', path: '/metadata/labels/portcullis.io~1managed' }] }, 'the event records what changed');
});

t.test('reinvocation and UPDATE never inject twice', async (t) => {
  const review = podReview('payments');
  const first = (await h.post('/mutate', review)).json.response;
  const injected = apply(review.request.object, first);

  const again = podReview('payments');
  again.request.object = injected;
  const second = (await h.post('/mutate', again)).json.response;
  t.equal(second.allowed, true);
  t.notOk(second.patch, 'no patch on reinvocation');
  t.match(second.auditAnnotations, { 'sidecar-injected': 'false', 'injection-reason': /already injected/ });

  const update = podReview('payments', () => {}, { operation: 'UPDATE', object: { ...injected, metadata: { ...injected.metadata, labels: { ...injected.metadata.labels, extra: 'x' } } }, oldObject: injected });
  const u = (await h.post('/mutate', update)).json.response;
  t.equal(u.allowed, true);
  t.notOk(u.patch, 'no patch on UPDATE');
  t.equal(u.auditAnnotations['sidecar-injected'], 'false');

  const plainUpdate = podReview('payments', () => {}, { operation: 'UPDATE', oldObject: structuredClone(base.request.object) });
  const pu = (await h.post('/mutate', plainUpdate)).json.response;
  t.notOk(patchOf(pu).some((op) => op.path.includes('containers')), 'an UPDATE of a Pod created before the mesh gets no sidecar');
});

t.test('a Pod that claims to be injected must hold the sidecar it would get', async (t) => {
  const review = podReview('payments');
  const injected = apply(review.request.object, (await h.post('/mutate', review)).json.response);
  const claim = (edit: (pod: any) => void, namespace = 'payments') => {
    const r = podReview(namespace);
    r.request.object = structuredClone(injected);
    r.request.object.metadata.namespace = namespace;
    edit(r.request.object);
    return h.post('/mutate', r).then((reply) => reply.json.response);
  };
  const proxyOf = (pod: any) => pod.spec.containers.find((c: any) => c.name === 'portcullis-proxy');
  const initOf = (pod: any) => pod.spec.initContainers.find((c: any) => c.name === 'portcullis-init');

  // What the API server does to a Pod it stores (and the ServiceAccount plugin's token mount): a copy of it still matches.
  const defaulted = await claim((pod) => {
    for (const c of [...pod.spec.containers, ...pod.spec.initContainers]) {
      Object.assign(c, { terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' });
      c.volumeMounts = [...(c.volumeMounts ?? []), { name: 'kube-api-access-x7k2p', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true }];
    }
    for (const e of proxyOf(pod).env) if (e.valueFrom?.fieldRef) e.valueFrom.fieldRef.apiVersion = 'v1';
    Object.assign(proxyOf(pod).readinessProbe, { timeoutSeconds: 1, successThreshold: 1 });
    proxyOf(pod).readinessProbe.httpGet.scheme = 'HTTP';
    for (const v of pod.spec.volumes) if (v.projected) v.projected.defaultMode = 420;
  });
  t.equal(defaulted.allowed, true, `defaulted fields are fine: ${defaulted.status?.message ?? ''}`);
  t.notOk(defaulted.patch, 'and nothing is injected twice');

  const env = (pod: any) => proxyOf(pod).env;
  const cases: Array<[string, (pod: any) => void, RegExp]> = [
    ['a proxy that runs something else', (pod) => (proxyOf(pod).command = ['sleep', 'infinity']), /"portcullis-proxy" differs in command/],
    ['an init container that redirects nothing', (pod) => (initOf(pod).args = ['sh', '-c', 'true']), /"portcullis-init" differs in args/],
    [
      'a proxy pointed at another authorization server',
      (pod) => {
        const args = proxyOf(pod).args;
        const i = args.indexOf('--config-yaml') + 1;
        args[i] = args[i].replace('portcullis.portcullis-system.svc', 'allow-all.attacker.svc');
      },
      /"portcullis-proxy" differs in args/,
    ],
    ['a second bootstrap after the first', (pod) => proxyOf(pod).args.push('--config-yaml', '{"static_resources":{}}'), /"portcullis-proxy" differs in args/],
    ['a variable set twice (the last one wins)', (pod) => env(pod).push({ name: 'POD_NAMESPACE', value: 'kube-system' }), /"portcullis-proxy" differs in env POD_NAMESPACE \(twice\)/],
    ['a PORTCULLIS_AUTHZ_ADDRESS of its own', (pod) => env(pod).push({ name: 'PORTCULLIS_AUTHZ_ADDRESS', value: 'evil.example:9191' }), /"portcullis-proxy" differs in env PORTCULLIS_AUTHZ_ADDRESS \(added\)/],
    ['an LD_PRELOAD in the proxy', (pod) => env(pod).push({ name: 'LD_PRELOAD', value: '/tmp/hook.so' }), /"portcullis-proxy" differs in env LD_PRELOAD \(added\)/],
    ['an env var of another webhook', (pod) => env(pod).push({ name: 'OTEL_EXPORTER', value: 'collector:4317' }), /differs in env OTEL_EXPORTER \(added\)/],
    ['variables from a ConfigMap', (pod) => (proxyOf(pod).envFrom = [{ configMapRef: { name: 'evil' } }]), /"portcullis-proxy" differs in envFrom/],
    ['a volume mounted over the proxy', (pod) => proxyOf(pod).volumeMounts.push({ name: 'tools', mountPath: '/usr/local/bin' }), /"portcullis-proxy" differs in volumeMounts/],
    ['a token mount elsewhere than the API server puts it', (pod) => proxyOf(pod).volumeMounts.push({ name: 'kube-api-access-x7k2p', mountPath: '/etc/envoy', readOnly: true }), /differs in volumeMounts/],
    ['a hook added to the proxy', (pod) => (proxyOf(pod).lifecycle = { postStart: { exec: { command: ['sh', '-c', 'iptables -F'] } } }), /"portcullis-proxy" differs in lifecycle/],
    ['a proxy given root', (pod) => (proxyOf(pod).securityContext.runAsUser = 0), /"portcullis-proxy" differs in securityContext/],
    ['no init container at all', (pod) => (pod.spec.initContainers = pod.spec.initContainers.filter((c: any) => c.name !== 'portcullis-init')), /initContainers has no "portcullis-init"/],
    [
      'an init container of its own before the redirect',
      (pod) => pod.spec.initContainers.unshift({ name: 'early', image: 'registry.example.com/early:1.0.0' }),
      /initContainers must start with "portcullis-init" \(found "early"\)/,
    ],
    ['a token of another audience', (pod) => (pod.spec.volumes.find((v: any) => v.name === 'portcullis-token').projected.sources[0].serviceAccountToken.audience = 'vault'), /volume "portcullis-token" differs/],
    ['the application reading the proxy\'s token', (pod) => (pod.spec.containers[0].volumeMounts = [{ name: 'portcullis-token', mountPath: '/t' }]), /container "payment-service" mounts the sidecar's volume "portcullis-token"/],
    ['the application reaching the proxy\'s admin socket', (pod) => (pod.spec.containers[0].volumeMounts = [{ name: 'portcullis-run', mountPath: '/r' }]), /container "payment-service" mounts the sidecar's volume "portcullis-run"/],
    [
      'a status naming more than was injected',
      (pod) => {
        const status = JSON.parse(pod.metadata.annotations['sidecar.portcullis.io/status']);
        status.containers.push('payment-service');
        pod.metadata.annotations['sidecar.portcullis.io/status'] = JSON.stringify(status);
      },
      /sidecar.portcullis.io\/status is not the one the injector writes/,
    ],
    ['a status annotation of its own making', (pod) => (pod.metadata.annotations['sidecar.portcullis.io/status'] = '{}'), /names sidecar template "\{\}", not one this injector has/],
  ];
  for (const [what, edit, message] of cases) {
    const r = await claim(edit);
    t.equal(r.allowed, false, `refused: ${what}`);
    t.equal(r.status?.code, 400);
    t.match(r.status?.message, message, what);
  }

  // The identity is the Pod's: the same sidecar copied into another namespace's Pod is someone else's.
  const moved = await claim(() => {}, 'orders');
  t.equal(moved.allowed, false);
  t.match(moved.status?.message, /"portcullis-proxy" differs in args/);
  const outside = await claim((pod) => (proxyOf(pod).command = ['sleep', 'infinity']), 'plain');
  t.equal(outside.allowed, true, 'outside the mesh nothing is injected, so nothing is checked here');
});

t.test('the validating webhook checks the claim again on the object as it will be stored', async (t) => {
  const review = podReview('payments');
  const injected = apply(review.request.object, (await h.post('/mutate', review)).json.response);
  const validate = async (namespace: string, edit: (pod: any) => void = () => {}) => {
    const r = podReview(namespace);
    r.request.object = structuredClone(injected);
    r.request.object.metadata.namespace = namespace;
    edit(r.request.object);
    return (await h.post('/validate', r)).json.response;
  };
  const ok = await validate('payments');
  t.equal(ok.allowed, true, `the injected Pod passes: ${ok.status?.message ?? ''}`);
  // Confirmed, the proxy's bootstrap (most of the Pod) is not handed to the policy; the rest of the proxy is.
  const argsSeen = async (response: { auditAnnotations: Record<string, string> }) =>
    ((await h.event(response.auditAnnotations['decision-id'] as string)) as any).input.request.object.spec.containers.find((c: any) => c.name === 'portcullis-proxy').args;
  const stored = injected.spec.containers.find((c: any) => c.name === 'portcullis-proxy');
  const seen = await argsSeen(ok);
  t.equal(seen[1], `(the Envoy bootstrap the injector rendered for this Pod and confirmed: ${Buffer.byteLength(stored.args[1])} bytes, not shown to the policy)`);
  t.same([seen[0], ...seen.slice(2)], [stored.args[0], ...stored.args.slice(2)], 'the other arguments are as they are');

  // A mutating webhook that ran after ours, with no reinvocation, added a variable to the proxy.
  const later = await validate('payments', (pod) => pod.spec.containers.find((c: any) => c.name === 'portcullis-proxy').env.push({ name: 'LD_PRELOAD', value: '/x.so' }));
  t.equal(later.allowed, false);
  t.match(later.status.message, /sidecar-impersonation: the Pod carries sidecar.portcullis.io\/status but not the sidecar Portcullis injects for it \("portcullis-proxy" differs in env LD_PRELOAD \(added\)\)/);
  t.match(later.status.message, /capabilities-allowlist: container "portcullis-init" adds capability NET_ADMIN/, 'and the init container gets no capabilities on that claim');
  t.equal((await argsSeen(later))[1], stored.args[1], 'a sidecar not confirmed is judged whole, its bootstrap included');

  // The same sidecar in a namespace outside the mesh was never Portcullis' to inject: its NET_ADMIN is refused.
  const outside = await validate('plain');
  t.equal(outside.allowed, false);
  t.match(outside.status.message, /sidecar-impersonation: the Pod carries sidecar.portcullis.io\/status but is not one Portcullis injects \(neither the namespace/);
  t.match(outside.status.message, /capabilities-allowlist: container "portcullis-init" adds capability NET_ADMIN/);

  const uid = await validate('payments', (pod) => (pod.spec.containers[0].securityContext = { ...pod.spec.containers[0].securityContext, runAsUser: 1337 }));
  t.equal(uid.allowed, false);
  t.match(uid.status.message, /proxy-uid-reserved: container "payment-service" runs with UID 1337 \(spec.containers\[0\].securityContext.runAsUser\)/);

  // A claim on a Pod the injector cannot read (a forged review; the API server would not send it) confirms nothing.
  const malformed = await validate('payments', (pod) => (pod.spec.volumes = 'portcullis-token'));
  t.equal(malformed.allowed, false);
  t.match(malformed.status.message, /sidecar-impersonation: the Pod carries sidecar.portcullis.io\/status, but it is malformed: spec.volumes must be array/);
  t.match(malformed.status.message, /capabilities-allowlist: container "portcullis-init" adds capability NET_ADMIN/, 'and grants nothing');
});

t.test('triggers and their precedence', async (t) => {
  const injectedBy = async (namespace: string, edit: (pod: any) => void = () => {}) => {
    const review = podReview(namespace, edit);
    const r = (await h.post('/mutate', review)).json.response;
    return { injected: r.allowed && hasProxy(apply(review.request.object, r)), r };
  };
  t.equal((await injectedBy('plain')).injected, false, 'namespace without the label');
  t.equal((await injectedBy('plain', (p) => (p.metadata.labels['sidecar.portcullis.io/inject'] = 'true'))).injected, true, 'Pod label opts in');
  t.equal((await injectedBy('payments', (p) => (p.metadata.labels['sidecar.portcullis.io/inject'] = 'false'))).injected, false, 'Pod label opts out');
  t.equal((await injectedBy('kube-system', (p) => (p.metadata.labels['sidecar.portcullis.io/inject'] = 'true'))).injected, false, 'kube-system never');
  t.equal((await injectedBy('payments', (p) => (p.spec.hostNetwork = true))).injected, false, 'hostNetwork never');
  const unknown = await injectedBy('nowhere');
  t.equal(unknown.injected, false, 'a namespace the facts do not know');
  const bad = (await injectedBy('payments', (p) => (p.metadata.labels['sidecar.portcullis.io/inject'] = 'enabled'))).r;
  t.equal(bad.allowed, false);
  t.equal(bad.status.code, 400);
  t.match(bad.status.message, /sidecar.portcullis.io\/inject must be "true" or "false", got "enabled"/);
});

t.test('annotations tune the sidecar; bad values are refused with the reason', async (t) => {
  const review = podReview('payments', (p) => {
    p.metadata.annotations['proxy.portcullis.io/cpu'] = '500m';
    p.metadata.annotations['proxy.portcullis.io/memory'] = '2Gi';
    p.metadata.annotations['traffic.portcullis.io/excludeInboundPorts'] = '9102';
    p.metadata.annotations['traffic.portcullis.io/excludeOutboundIPRanges'] = '169.254.169.254/32';
  });
  const r = (await h.post('/mutate', review)).json.response;
  const pod = apply(review.request.object, r);
  const proxy = pod.spec.containers.find((c: any) => c.name === 'portcullis-proxy');
  t.same(proxy.resources.requests, { cpu: '500m', memory: '2Gi' });
  t.equal(proxy.resources.limits.memory, '2Gi', 'the limit follows a larger request');
  const script = redirectOf(pod.spec.initContainers[0]);
  t.match(script, /-A PORTCULLIS_INBOUND -p tcp -m tcp --dport 9102 -j RETURN/, 'the excluded inbound port');
  t.match(script, /-A PORTCULLIS_OUTPUT -d 169.254.169.254\/32 -j RETURN/, 'the excluded outbound range');

  const bad = podReview('payments', (p) => {
    p.metadata.annotations['traffic.portcullis.io/excludeOutboundPorts'] = '25,smtp';
    p.metadata.annotations['proxy.portcullis.io/cpu'] = '-1';
  });
  const b = (await h.post('/mutate', bad)).json.response;
  t.equal(b.uid, bad.request.uid);
  t.equal(b.allowed, false);
  t.match(b.status, { code: 400, reason: 'BadRequest' });
  t.match(b.status.message, /traffic.portcullis.io\/excludeOutboundPorts="25,smtp": "smtp" is not a port/);
  t.match(b.status.message, /proxy.portcullis.io\/cpu="-1"/);
  const event = await h.event(b.auditAnnotations?.['decision-id'] ?? '');
  t.equal(event.decision, 'deny');
});

t.test('mutation policies also apply to Pods that are not injected', async (t) => {
  const review = podReview('plain', (p) => {
    delete p.spec.securityContext;
  });
  const r = (await h.post('/mutate', review)).json.response;
  const ops = patchOf(r);
  t.same(ops.map((o) => o.path), ['/spec/securityContext', '/metadata/labels/portcullis.io~1managed']);
  const pod = apply(review.request.object, r);
  t.same(pod.spec.securityContext, { seccompProfile: { type: 'RuntimeDefault' } });
  t.equal(r.auditAnnotations['policy-patches'], '2');
});

t.test('non-Pod kinds and DELETE pass through untouched', async (t) => {
  const pa = await fixture('peerauthentication-permissive.json');
  const r = (await h.post('/mutate', pa)).json.response;
  t.equal(r.allowed, true, 'the mutating webhook does not judge: validation does');
  t.notOk(r.patch);
  const del = podReview('payments', () => {}, { operation: 'DELETE', object: null, oldObject: structuredClone(base.request.object) });
  const d = (await h.post('/mutate', del)).json.response;
  t.equal(d.allowed, true);
  t.notOk(d.patch);
});

t.test('with no mutation policy configured the patches entrypoint is not evaluated; configured again, it is', async (t) => {
  const { config, engine } = h.service.ctx;
  const review = () =>
    podReview('plain', (p) => {
      delete p.spec.securityContext;
    });
  await engine.setOverlay(mergeData(config.policy.data, { portcullis: { config: { mutations: { seccompProfile: { enabled: false }, podLabels: { enabled: false } } } } }));
  t.teardown(() => engine.setOverlay(config.policy.data));
  const off = (await h.post('/mutate', review())).json.response;
  t.notOk(off.patch, 'nothing to change');
  const skipped = await h.event(off.auditAnnotations['decision-id']);
  t.equal(skipped.metrics.timer_rego_eval_ns, 0, 'portcullis/admission/patches_active is false: no evaluation');
  t.match(skipped.result, { injected: false, patches: [] });

  await engine.setOverlay(config.policy.data);
  const on = (await h.post('/mutate', review())).json.response;
  t.same(patchOf(on).map((o) => o.path), ['/spec/securityContext', '/metadata/labels/portcullis.io~1managed'], 'the next snapshot evaluates them again');
  const evaluated = await h.event(on.auditAnnotations['decision-id']);
  t.ok((evaluated.metrics.timer_rego_eval_ns ?? 0) > 0);
});

t.test('admission.injection.provider istio: Istio injects, Portcullis judges Istio\'s sidecar', async (t) => {
  const istio = await startHarness({
    namespaces: [
      // Istio's istio-init adds NET_ADMIN and NET_RAW, which the baseline Pod Security level forbids (Istio
      // asks for its CNI plugin there): 'shop' runs at privileged, 'cart' at the default baseline.
      { name: 'shop', labels: { 'istio-injection': 'enabled', 'pod-security.kubernetes.io/enforce': 'privileged' } },
      { name: 'cart', labels: { 'istio-injection': 'enabled' } },
      { name: 'payments', labels: { 'portcullis.io/injection': 'enabled' } },
    ],
    config: { admission: { injection: { provider: 'istio' } } },
  });
  t.teardown(() => istio.close());
  const plain = (await istio.post('/mutate', podReview('shop'))).json.response;
  t.notOk(plain.patch, 'nothing injected by Portcullis');
  t.match(plain.auditAnnotations, { 'sidecar-injected': 'false', 'injection-reason': /Istio injects/ });

  // What Istio's webhook stores: istio-init and istio-proxy, and its status annotation.
  const istioInjected = (namespace: string) => podReview(namespace, (pod) => {
    pod.metadata.annotations['sidecar.istio.io/status'] = JSON.stringify({ initContainers: ['istio-init'], containers: ['istio-proxy'], volumes: ['istio-envoy'], revision: 'default' });
    pod.spec.initContainers = [{ name: 'istio-init', image: 'docker.io/istio/proxyv2:1.30.3', securityContext: { runAsUser: 0, capabilities: { add: ['NET_ADMIN', 'NET_RAW'], drop: ['ALL'] } } }];
    pod.spec.containers.push({ name: 'istio-proxy', image: 'docker.io/istio/proxyv2:1.30.3', securityContext: { runAsUser: 1337, runAsGroup: 1337 } });
  });
  const ok = (await istio.post('/validate', istioInjected('shop'))).json.response;
  t.equal(ok.allowed, true, `Istio's sidecar passes the rules: ${ok.status?.message ?? ''}`);
  const baseline = (await istio.post('/validate', istioInjected('cart'))).json.response;
  t.equal(baseline.allowed, false, 'at baseline, istio-init is refused as the PodSecurity plugin refuses it');
  t.match(baseline.status?.message, /pod-security:capabilities_baseline: container "istio-init" adds capability "NET_ADMIN"/);
  t.notMatch(baseline.status?.message, /sidecar-impersonation|proxy-uid-reserved/, 'and nothing else of Istio\'s sidecar is refused');
  const missing = (await istio.post('/validate', podReview('shop'))).json.response;
  t.equal(missing.allowed, false);
  t.match(missing.status.message, /sidecar-required: Pod in mesh namespace "shop" has no "istio-proxy" sidecar container: create it again so the Istio injector adds it/);
  const ours = (await istio.post('/validate', podReview('payments'))).json.response;
  t.match(ours.status?.message, /no "istio-proxy" sidecar/, 'a namespace labelled for Portcullis needs Istio\'s proxy too: there is one kind of sidecar');

  // The default provider: Istio's namespaces are left to Istio.
  const mixed = (await h.post('/mutate', podReview('payments', (pod) => (pod.metadata.labels['sidecar.istio.io/inject'] = 'true')))).json.response;
  t.notOk(patchOf(mixed).some((op) => op.path.includes('containers')), 'a Pod that asks Istio for its proxy gets no second one from Portcullis');
  t.match(mixed.auditAnnotations['injection-reason'], /Pod label sidecar.istio.io\/inject=true/);
});
