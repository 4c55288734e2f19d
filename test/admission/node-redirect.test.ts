// The node redirect mode (admission.injection.redirect: node): the template puts the non-root
// portcullis-validation check where portcullis-init was, the injected Pod passes the restricted Pod
// Security level through the webhooks' own decision path with no exception at all (where the init mode's Pod
// is refused), and the injector's check for the node agent confirms only the sidecar it renders.
import t from 'tap';
import fastJsonPatch from 'fast-json-patch';
import pino from 'pino';
import { Injector } from '../../src/admission/injection/injector.js';
import { natRules, probeTarget, rulesDigest, type RedirectOptions } from '../../src/admission/injection/redirect.js';
import { SidecarTemplate } from '../../src/admission/injection/sidecar.js';
import { podUidOfCgroup } from '../../src/node/netns.js';
import { parseConfig } from '../../src/server/config.js';
import { fixture, patchOf, podReview, startHarness } from './service.js';

const facts = { namespace: 'payments', name: 'web', serviceAccount: 'web', cluster: { name: 'c', trustDomain: 'cluster.local' }, overrides: {}, trustBundle: 'ca' };

t.test('node mode renders the validation container in place of portcullis-init', async (t) => {
  const init = SidecarTemplate.load(undefined, []);
  const node = SidecarTemplate.load(undefined, [], 'node');
  t.same(init.sidecar(facts).initContainers.map((c) => c.name), ['portcullis-init'], 'init mode as it was');
  const sidecar = node.sidecar(facts);
  t.same(sidecar.initContainers.map((c) => c.name), ['portcullis-validation']);
  t.not(node.revision, init.revision, 'a Pod injected in one mode is not the other mode\'s');
  const v = sidecar.initContainers[0] as Record<string, any>;
  t.equal(v.image, 'ghcr.io/portcullis/portcullis:0.1.0', "Portcullis' own image");
  t.same(v.command, ['node', '/app/dist/cli.js']);
  const o = node.redirectOptions(facts);
  t.same(v.args, ['redirect-check', '--port=15001', '--target=192.0.2.1:6000', '--timeout-seconds=60', `--rules-sha256=${rulesDigest(o)}`]);
  t.not(
    rulesDigest(o),
    rulesDigest(node.redirectOptions({ ...facts, overrides: { excludeOutboundPorts: '5432' } })),
    'the rules are part of what the claim check compares',
  );
  t.same(v.securityContext, {
    runAsUser: 65532,
    runAsGroup: 65532,
    runAsNonRoot: true,
    privileged: false,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  });
  t.notOk(v.volumeMounts, 'no volume: the sidecar\'s are the proxy\'s');
  t.same(sidecar.containers, init.sidecar(facts).containers, 'the proxy is the same in both modes');

  t.throws(() => SidecarTemplate.load(undefined, [{ validation: { uid: 1337 } }], 'node'), /values.validation.uid must not be the proxy's/);
  t.throws(() => SidecarTemplate.load(undefined, [{ validation: { uid: 4242 }, proxy: { uid: 4242 } }], 'node'), /must not be the proxy's/);
  t.throws(() => SidecarTemplate.load('containers: [{name: proxy, image: x}]', [], 'node'), /no redirect.node init container/, "an operator's template without the check does not load in node mode");
  t.doesNotThrow(() => SidecarTemplate.load('containers: [{name: proxy, image: x}]', []), 'nor does init mode need one');
  t.throws(
    () => node.sidecar({ ...facts, overrides: { includeOutboundIPRanges: '10.1.2.0/24', excludeOutboundIPRanges: '10.1.2.0/24' } }),
    /leave no outbound TCP redirected/,
    'nothing to check: no sidecar rather than a check that cannot pass',
  );
});

t.test('the probe is an address and port the rules redirect', async (t) => {
  const base: RedirectOptions = { proxyUid: 1337, proxyGid: 1337, inboundPort: 15006, outboundPort: 15001, proxyPorts: [15021, 15090], excludeInboundPorts: '', excludeOutboundPorts: '', includeOutboundIPRanges: '*', excludeOutboundIPRanges: '' };
  const probe = (o: Partial<RedirectOptions>) => probeTarget({ ...base, ...o });
  t.equal(probe({}), '192.0.2.1:6000');
  t.equal(probe({ excludeOutboundIPRanges: '192.0.2.0/24' }), '198.51.100.1:6000');
  t.equal(probe({ excludeOutboundIPRanges: '0.0.0.0/0' }), '[2001:db8::1]:6000', 'IPv4 all excluded: IPv6');
  t.equal(probe({ excludeOutboundPorts: '6000,6001' }), '192.0.2.1:6002');
  t.equal(probe({ includeOutboundIPRanges: '10.96.0.0/12' }), '10.96.0.1:6000');
  t.equal(probe({ includeOutboundIPRanges: '10.96.7.9/12' }), '10.96.0.1:6000', 'the network of a range written with host bits');
  t.equal(probe({ includeOutboundIPRanges: '10.0.0.0/8,172.16.0.0/12', excludeOutboundIPRanges: '10.0.0.0/8' }), '172.16.0.1:6000');
  t.equal(probe({ includeOutboundIPRanges: 'fd00:10::/64' }), '[fd00:10:0:0:0:0:0:1]:6000');
  t.equal(probe({ includeOutboundIPRanges: '10.1.1.1/32' }), '10.1.1.1:6000');
  t.equal(probe({ includeOutboundIPRanges: '10.1.0.0/16', excludeOutboundIPRanges: '10.0.0.0/8' }), undefined);
  t.equal(probe({ excludeOutboundPorts: '6000,6001,6002,6003' }), undefined);
});

t.test("the kubelet's pod cgroup, every way it is written", async (t) => {
  const uid = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
  t.equal(podUidOfCgroup(`4:memory:/kubepods/besteffort/pod${uid}/0123abcd\n0::/`), uid, 'cgroup v1, cgroupfs driver');
  t.equal(podUidOfCgroup(`0::/kubepods/burstable/pod${uid}/0123abcd`), uid, 'cgroup v2, cgroupfs driver');
  t.equal(podUidOfCgroup(`0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${uid.replace(/-/g, '_')}.slice/cri-containerd-0123.scope`), uid, 'systemd driver');
  t.equal(podUidOfCgroup(`0::/kubepods.slice/kubepods-pod${uid.replace(/-/g, '_')}.slice/crio-0123.scope`), uid, 'guaranteed class');
  t.equal(podUidOfCgroup(`1:name=systemd:/kubepods/pod${uid}`), uid, 'the Pod level itself');
  t.equal(podUidOfCgroup('0::/system.slice/kubelet.service'), undefined);
  t.equal(podUidOfCgroup(`0::/kubepods/besteffort/xpod${uid}/1`), undefined, 'only a whole path element');
  t.equal(podUidOfCgroup(`0::/kubepods/besteffort/pod${uid}x/1`), undefined);
});

// The decision path, at the restricted level: a mesh namespace that enforces it.
const restricted = [{ name: 'payments', labels: { 'portcullis.io/injection': 'enabled', 'pod-security.kubernetes.io/enforce': 'restricted' } }];
const base = await fixture('pod-create-deployment.json');
const apply = (object: unknown, response: { patch?: string }) =>
  fastJsonPatch.applyPatch(structuredClone(object), patchOf(response) as fastJsonPatch.Operation[], true, false).newDocument as any;

async function injectAndValidate(mode: 'init' | 'node') {
  const h = await startHarness({ namespaces: restricted, config: { admission: { injection: { redirect: mode } } } });
  try {
    const review = podReview(base, 'payments');
    const mutated = await h.post('/mutate', review);
    t.equal(mutated.json.response.allowed, true, `${mode}: /mutate injects`);
    const pod = apply(review.request.object, mutated.json.response);
    const validated = await h.post('/validate', { ...review, request: { ...review.request, object: pod } });
    return { pod, response: validated.json.response };
  } finally {
    await h.close();
  }
}

const nodeMode = await injectAndValidate('node');

t.test('restricted: the node mode Pod passes; the init mode Pod is refused', async (t) => {
  t.same(nodeMode.pod.spec.initContainers.map((c: { name: string }) => c.name), ['portcullis-validation']);
  t.equal(nodeMode.response.allowed, true, 'the injected Pod passes every rule at restricted');
  t.notOk(nodeMode.response.warnings, 'with no warning either');
  const initMode = await injectAndValidate('init');
  t.equal(initMode.response.allowed, false, 'the root NET_ADMIN init container is not restricted');
  t.match(initMode.response.status.message, /portcullis-init/);
  t.match(initMode.response.status.message, /pod-security/);
});

t.test("the node agent's check: the stored sidecar confirmed, anything else refused", async (t) => {
  const config = parseConfig({ admission: { injection: { redirect: 'node' } } });
  const injector = new Injector(config.admission.injection, config.cluster, pino({ level: 'silent' }));
  await injector.start();
  t.teardown(() => injector.stop());
  const pod = { ...nodeMode.pod, metadata: { ...nodeMode.pod.metadata, namespace: 'payments', name: 'payment-service-abc12', uid: 'u' } };
  const confirmed = injector.nodeRedirect(pod);
  const o = SidecarTemplate.load(undefined, [], 'node').redirectOptions({ ...facts, overrides: {} });
  t.same(confirmed, { rules: { ipv4: natRules(o, 4), ipv6: natRules(o, 6) } }, 'exactly the rules portcullis-init would install');

  const edited = (edit: (p: any) => void) => {
    const p = structuredClone(pod);
    edit(p);
    return injector.nodeRedirect(p);
  };
  t.match(edited((p) => (p.spec.containers.find((c: any) => c.name === 'portcullis-proxy').image = 'evil/envoy:1')), { refused: /"portcullis-proxy" differs in image/ }, 'a forged proxy');
  t.match(edited((p) => delete p.metadata.annotations['sidecar.portcullis.io/status']), { refused: /not injected/ }, 'no claim');
  // The validation container is checked as portcullis-init is: all of it, and its place.
  t.match(edited((p) => (p.spec.initContainers[0].securityContext.runAsUser = 1337)), { refused: /"portcullis-validation" differs in securityContext/ }, "the check run as the proxy's UID, which the rules let through");
  t.match(edited((p) => p.spec.initContainers[0].args.push('--timeout-seconds=0')), { refused: /"portcullis-validation" differs in args/ });
  t.match(edited((p) => p.spec.initContainers.shift()), { refused: /initContainers has no "portcullis-validation"/ }, 'no check at all');
  t.match(edited((p) => p.spec.initContainers.unshift({ name: 'early', image: 'registry.example.com/early:1' })), { refused: /initContainers must start with "portcullis-validation"/ }, 'an init container of its own before the check');
  t.match(edited((p) => (p.spec.hostNetwork = true)), { refused: /hostNetwork/ }, "never the node's own network");
  t.match(edited((p) => (p.metadata.namespace = 'kube-system')), { refused: /never injected/ });
  t.match(edited((p) => (p.metadata.annotations['traffic.portcullis.io/excludeOutboundPorts'] = '5432')), { refused: /differs/ }, 'annotations changed after injection: the rules would not be the checked ones');
  t.match(edited((p) => (p.metadata.annotations['traffic.portcullis.io/excludeOutboundPorts'] = '$(reboot)')), { refused: /excludeOutboundPorts/ });
  t.match(edited((p) => (p.spec.containers = 'x')), { refused: /.+/ }, 'a malformed Pod is refused, not thrown');

  const initInjector = new Injector({ ...config.admission.injection, redirect: 'init' }, config.cluster, pino({ level: 'silent' }));
  await initInjector.start();
  t.teardown(() => initInjector.stop());
  t.match(initInjector.nodeRedirect(pod), { refused: /unless admission.injection.redirect is node/ });
  const initPod = (await injectAndValidate('init')).pod;
  t.match(injector.nodeRedirect({ ...initPod, metadata: { ...initPod.metadata, namespace: 'payments' } }), { refused: /names sidecar template/ }, 'a Pod injected in init mode gets nothing from the node');
});
