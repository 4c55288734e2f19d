import t from 'tap';
import fastJsonPatch from 'fast-json-patch';
import { readOverrides, quantityValue } from '../../src/admission/injection/annotations.js';
import { injectionPatch } from '../../src/admission/injection/patch.js';
import { verifyInjected } from '../../src/admission/injection/verify.js';
import { asPod, type Pod } from '../../src/admission/injection/pod.js';
import { SidecarTemplate } from '../../src/admission/injection/sidecar.js';
import { compileTemplate, TemplateError } from '../../src/admission/injection/template.js';
import { injectionTrigger } from '../../src/admission/injection/trigger.js';
import { fixture } from './service.js';

const review = await fixture('pod-create-deployment.json');
const pod = () => structuredClone(review.request.object) as Pod;
const meshNs = { name: 'payments', labels: { 'portcullis.io/injection': 'enabled' }, annotations: {} };
const plainNs = { name: 'payments', labels: {}, annotations: {} };
const withLabel = (value: string) => {
  const p = pod();
  p.metadata = { ...p.metadata, labels: { ...p.metadata?.labels, 'sidecar.portcullis.io/inject': value } };
  return p;
};

t.test('trigger precedence', async (t) => {
  t.match(injectionTrigger(pod(), 'payments', meshNs, []), { inject: true, reason: /namespace label/ });
  t.match(injectionTrigger(pod(), 'payments', plainNs, []), { inject: false });
  t.match(injectionTrigger(pod(), 'payments', null, []), { inject: false }, 'an unknown namespace is not in the mesh');
  t.match(injectionTrigger(withLabel('true'), 'payments', plainNs, []), { inject: true, reason: /Pod label/ }, 'the Pod label opts in');
  t.match(injectionTrigger(withLabel('false'), 'payments', meshNs, []), { inject: false, reason: /Pod label/ }, 'the Pod label opts out');
  t.match(injectionTrigger(withLabel('yes'), 'payments', meshNs, []), { invalid: /must be "true" or "false", got "yes"/ });
  t.match(injectionTrigger(withLabel('true'), 'kube-system', meshNs, []), { inject: false, reason: /never injected/ }, 'kube-system beats the Pod label');
  t.match(injectionTrigger(withLabel('true'), 'kube-public', meshNs, []), { inject: false });
  t.match(injectionTrigger(withLabel('true'), 'payments', meshNs, ['payments']), { inject: false }, 'configured exclusions');
  const host = withLabel('true');
  host.spec.hostNetwork = true;
  t.match(injectionTrigger(host, 'payments', meshNs, []), { inject: false, reason: /hostNetwork/ });
  const done = pod();
  done.metadata = { ...done.metadata, annotations: { 'sidecar.portcullis.io/status': '{}' } };
  t.match(injectionTrigger(done, 'payments', meshNs, []), { inject: false, reason: /already injected/ });
});

t.test('where Istio injects its own proxy, Portcullis does not inject a second one', async (t) => {
  const istioNs = (labels: Record<string, string>) => ({ name: 'payments', labels: { 'portcullis.io/injection': 'enabled', ...labels }, annotations: {} });
  t.match(injectionTrigger(pod(), 'payments', istioNs({ 'istio-injection': 'enabled' }), []), { inject: false, reason: /Istio injects its proxy in namespace payments \(label istio-injection=enabled\)/ });
  t.match(injectionTrigger(pod(), 'payments', istioNs({ 'istio.io/rev': 'canary' }), []), { inject: false, reason: /label istio.io\/rev/ }, 'a revision label');
  t.match(injectionTrigger(pod(), 'payments', istioNs({ 'istio.io/rev': 'canary', 'istio-injection': 'disabled' }), []), { inject: true }, 'unless Istio injection is disabled there');
  const istioLabel = (value: string) => {
    const p = pod();
    p.metadata = { ...p.metadata, labels: { ...p.metadata?.labels, 'sidecar.istio.io/inject': value } };
    return p;
  };
  t.match(injectionTrigger(istioLabel('true'), 'payments', meshNs, []), { inject: false, reason: /Pod label sidecar.istio.io\/inject=true/ }, 'a Pod asking Istio for it');
  t.match(injectionTrigger(istioLabel('false'), 'payments', istioNs({ 'istio-injection': 'enabled' }), []), { inject: true }, 'a Pod opting out of Istio gets ours');
  const already = pod();
  already.spec.containers.push({ name: 'istio-proxy' });
  t.match(injectionTrigger(already, 'payments', meshNs, []), { inject: false, reason: /Istio's proxy is in the Pod already/ });
  const annotated = pod();
  annotated.metadata = { ...annotated.metadata, annotations: { 'sidecar.istio.io/status': '{}' } };
  t.match(injectionTrigger(annotated, 'payments', meshNs, []), { inject: false, reason: /Istio's proxy is in the Pod already/ });
});

t.test('annotations are checked and normalised', async (t) => {
  const ok = readOverrides({
    'proxy.portcullis.io/cpu': '250m',
    'proxy.portcullis.io/memory': '1.5Gi',
    'traffic.portcullis.io/excludeInboundPorts': ' 8080, 9090 ',
    'traffic.portcullis.io/excludeOutboundPorts': '5432',
    'traffic.portcullis.io/includeOutboundIPRanges': '10.0.0.0/8,fd00::/8',
    'traffic.portcullis.io/excludeOutboundIPRanges': '169.254.169.254/32',
  });
  t.same(ok.problems, []);
  t.same(ok.overrides, {
    cpu: '250m',
    memory: '1.5Gi',
    excludeInboundPorts: '8080,9090',
    excludeOutboundPorts: '5432',
    includeOutboundIPRanges: '10.0.0.0/8,fd00::/8',
    excludeOutboundIPRanges: '169.254.169.254/32',
  });
  t.same(readOverrides({ 'traffic.portcullis.io/includeOutboundIPRanges': '*' }).overrides, { includeOutboundIPRanges: '*' });
  const bad = readOverrides({
    'proxy.portcullis.io/cpu': 'lots',
    'proxy.portcullis.io/memory': '0',
    'traffic.portcullis.io/excludeInboundPorts': '80,70000',
    'traffic.portcullis.io/excludeOutboundPorts': '80;rm -rf /',
    'traffic.portcullis.io/includeOutboundIPRanges': '10.0.0.0/33',
    'traffic.portcullis.io/excludeOutboundIPRanges': '*',
  });
  t.equal(bad.problems.length, 6, 'every bad annotation is reported');
  t.match(bad.problems.join('\n'), /proxy.portcullis.io\/cpu="lots": not a Kubernetes quantity/);
  t.match(bad.problems.join('\n'), /memory="0": must be greater than zero/);
  t.match(bad.problems.join('\n'), /"70000" is not a port/);
  t.match(bad.problems.join('\n'), /"80;rm -rf \/" is not a port/);
  t.match(bad.problems.join('\n'), /"10.0.0.0\/33" is not a CIDR range/);
  t.match(bad.problems.join('\n'), /"\*" \(all ranges\) is allowed only alone, and only for includeOutboundIPRanges/);
  t.equal(quantityValue('1.5Gi'), 1.5 * 2 ** 30);
  t.equal(quantityValue('250m'), 0.25);
  t.equal(quantityValue('1e3'), 1000);
});

t.test('resource annotations are bounded; memory is whole bytes', async (t) => {
  const problem = (key: 'cpu' | 'memory', value: string) => readOverrides({ [`proxy.portcullis.io/${key}`]: value }).problems[0];
  for (const cpu of ['100m', '0.5', '1', '1e0', '1000u', '64', '64000m']) t.equal(problem('cpu', cpu), undefined, `cpu ${cpu}`);
  for (const memory of ['128Mi', '1G', '1e3', '1.5Gi', '0.3k', '.5Ki', '64Gi', '1000m']) t.equal(problem('memory', memory), undefined, `memory ${memory}`);
  t.match(problem('cpu', '1e400'), /cpu="1e400": must be at most 64 cores/, 'Infinity is not a quantity of cores');
  t.match(problem('cpu', '65'), /must be at most 64 cores/);
  t.match(problem('cpu', '0.5m'), /must be at least 1m/);
  t.match(problem('memory', '1e400'), /memory="1e400": must be at most 64Gi/);
  t.match(problem('memory', '65Gi'), /must be at most 64Gi/);
  for (const memory of ['0.5m', '0.5', '100m', '1.1Gi', '1.0000001k']) t.match(problem('memory', memory), /must be a whole number of bytes/, `memory ${memory}`);
  t.equal(quantityValue('1e400'), Infinity);
  t.equal(quantityValue('1000u'), 0.001, 'decimal exponents are exact where the double is');
});

t.test('port lists take plain decimal ports only', async (t) => {
  const ports = (v: string) => readOverrides({ 'traffic.portcullis.io/excludeInboundPorts': v });
  t.same(ports(' 1, 80 ,65535').overrides, { excludeInboundPorts: '1,80,65535' });
  t.same(ports('').overrides, { excludeInboundPorts: '' }, 'an empty list excludes nothing');
  for (const [value, message] of [
    ['080', /"080" is not a port \(1-65535, no leading zeros\)/],
    ['0', /"0" is not a port/],
    ['+80', /"\+80" is not a port/],
    ['8e1', /"8e1" is not a port/],
    ['0x50', /"0x50" is not a port/],
    ['80 443', /"80 443" is not a port/],
    ['80,,443', /has an empty entry/],
    ['80,', /has an empty entry/],
  ] as const) {
    t.match(ports(value).problems, [message], JSON.stringify(value));
  }
  t.match(readOverrides({ 'traffic.portcullis.io/excludeOutboundIPRanges': '10.0.0.0/8,' }).problems, [/has an empty entry/], 'IP range lists alike');
});

t.test('template placeholders', async (t) => {
  const render = compileTemplate({ a: '{{ x.n }}', b: 'port {{ x.n }}/{{ x.s }}', c: '{{ x.none }}', d: ['{{ x.none }}', 'kept'], e: '{{ x.obj }}' });
  t.same(render({ x: { n: 7, s: 'tcp', none: null, obj: { deep: true } } }), { a: 7, b: 'port 7/tcp', d: ['kept'], e: { deep: true } }, 'whole placeholders keep their type, null removes');
  t.throws(() => render({ x: {} }), TemplateError, 'a name the context lacks is an error');
  t.throws(() => compileTemplate({ a: 'x {{ y }} {{ broken' }), /malformed placeholder/);
  t.throws(() => compileTemplate({ a: 'x {{ y.obj }}' })({ y: { obj: {} } }), /not text/);
  const evil = compileTemplate({ a: '{{ v }}' })({ v: 'x\nb: injected' });
  t.same(evil, { a: 'x\nb: injected' }, 'values can not add YAML structure');
  // YAML parses a "__proto__" key as an ordinary key; rendering must keep it one, not set the prototype.
  const proto = compileTemplate(JSON.parse('{"__proto__": {"polluted": "{{ v }}"}, "a": 1}'))({ v: 'yes' }) as Record<string, unknown>;
  t.same(Object.keys(proto), ['__proto__', 'a']);
  t.equal((proto as { polluted?: unknown }).polluted, undefined, 'the prototype is untouched');
  t.same(Object.getOwnPropertyDescriptor(proto, '__proto__')?.value, { polluted: 'yes' });
});

t.test('the embedded template renders the sidecar the policy expects', async (t) => {
  const template = SidecarTemplate.load(undefined, [{ authz: { address: 'authz.mesh:9191' } }]);
  const sidecar = template.sidecar({
    namespace: 'payments',
    name: 'payment-service-',
    serviceAccount: 'payment-service',
    cluster: { name: 'prod', trustDomain: 'example.org' },
    overrides: { cpu: '3', excludeInboundPorts: '8080' },
    trustBundle: 'test-ca',
  });
  t.same(sidecar.initContainers.map((c) => c.name), ['portcullis-init']);
  t.same(sidecar.containers.map((c) => c.name), ['portcullis-proxy']);
  const proxy = sidecar.containers[0] as any;
  t.equal(proxy.image, 'docker.io/envoyproxy/envoy:v1.40.0', 'upstream Envoy, the official image');
  t.same(proxy.command, ['envoy']);
  const bootstrap = JSON.parse(proxy.args[proxy.args.indexOf('--config-yaml') + 1]);
  t.equal(bootstrap.node.metadata.spiffe_id, 'spiffe://example.org/ns/payments/sa/payment-service');
  const authz = bootstrap.static_resources.clusters.find((c: any) => c.name === 'portcullis-authz');
  t.same(authz.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address, { address: 'authz.mesh', port_value: 9191 }, 'values override defaults');
  t.same(proxy.args.slice(proxy.args.indexOf('--service-node'), proxy.args.indexOf('--service-node') + 4), ['--service-node', '$(POD_NAME).$(POD_NAMESPACE)', '--service-cluster', 'payment-service.payments']);
  t.same(proxy.resources, { requests: { cpu: '3', memory: '128Mi' }, limits: { cpu: '3', memory: '1Gi' } }, 'a request above the limit raises the limit');
  t.match(proxy.securityContext, { runAsUser: 1337, runAsGroup: 1337, runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } }, 'restricted-compliant');
  const init = sidecar.initContainers[0] as any;
  t.same(init.securityContext.capabilities.add, ['NET_ADMIN', 'NET_RAW']);
  t.same(init.command, ['sh', '-c']);
  t.match(init.args[0], /-A PORTCULLIS_INBOUND -p tcp -m tcp --dport 8080 -j RETURN/, 'the excluded inbound port in the redirect');
  t.same(sidecar.volumes.map((v) => v.name), ['portcullis-token', 'portcullis-run']);
  t.throws(() => SidecarTemplate.load('containers: [{name: x, image: "{{ values.nope }}"}]', []), /unknown placeholder \{\{ values.nope \}\}/, 'checked when loaded');
  t.throws(() => SidecarTemplate.load('containers: []', []), /not a sidecar/);
  t.throws(() => SidecarTemplate.load('containers: [{name: x}]\nextra: 1', []), /not a sidecar/);
  t.throws(() => SidecarTemplate.load('{{', []), /not valid YAML|must be a YAML mapping/);
});

t.test('the Pods of a workload share one rendering; a template that reads the Pod\'s name renders each', async (t) => {
  const facts = (name: string, namespace = 'payments') => ({ namespace, name, serviceAccount: 'web', cluster: { name: 'prod', trustDomain: 'example.org' }, overrides: {}, trustBundle: 'test-ca' });
  const embedded = SidecarTemplate.load(undefined, []);
  t.equal(embedded.sidecar(facts('web-0')), embedded.sidecar(facts('web-1')), 'the embedded template does not read the name: one rendering for both');
  t.not(embedded.sidecar(facts('web-0')), embedded.sidecar(facts('web-0', 'orders')), 'another namespace is another rendering');
  const named = SidecarTemplate.load('containers: [{name: proxy, image: envoy, args: ["--node", "{{ pod.name }}"]}]', []);
  t.same(named.sidecar(facts('web-0')).containers[0]?.args, ['--node', 'web-0']);
  t.same(named.sidecar(facts('web-1')).containers[0]?.args, ['--node', 'web-1'], 'each Pod its own name');
  const whole = SidecarTemplate.load('containers: [{name: proxy, image: envoy, env: [{name: POD, value: "{{ pod.namespace }}"}], args: "{{ pod }}"}]', []);
  t.match(whole.sidecar(facts('web-1')).containers[0]?.args, { name: 'web-1' }, 'a placeholder of the whole pod reads the name too');
});

t.test('the patch applies cleanly to the Pod as sent, whatever lists it has', async (t) => {
  const template = SidecarTemplate.load(undefined, []);
  const sidecar = template.sidecar({ namespace: 'payments', name: 'p', serviceAccount: 'sa', cluster: { name: 'c', trustDomain: 'td' }, overrides: {}, trustBundle: 'test-ca' });
  const variants: Array<[string, (p: any) => void]> = [
    ['fixture', () => {}],
    ['no annotations, no volumes', (p) => {
      delete p.metadata.annotations;
      delete p.spec.volumes;
    }],
    ['existing init containers', (p) => {
      p.spec.initContainers = [{ name: 'migrate', image: 'registry.example.com/migrate:1' }];
    }],
  ];
  for (const native of [false, true]) {
    for (const [name, change] of variants) {
      const original = pod();
      change(original);
      const plan = injectionPatch(original, sidecar, { nativeSidecar: native, revision: 'r1' });
      if (typeof plan === 'string') throw new Error(plan);
      const patched = fastJsonPatch.applyPatch(structuredClone(original), plan.ops as fastJsonPatch.Operation[], true, false).newDocument as any;
      const label = `${native ? 'native' : 'classic'} ${name}`;
      t.equal(patched.spec.initContainers[0].name, 'portcullis-init', `${label}: redirect first`);
      if (native) {
        t.match(patched.spec.initContainers[1], { name: 'portcullis-proxy', restartPolicy: 'Always' }, `${label}: proxy is a native sidecar`);
        t.notOk(patched.spec.containers.some((c: any) => c.name === 'portcullis-proxy'));
      } else {
        t.equal(patched.spec.containers.at(-1).name, 'portcullis-proxy', `${label}: proxy appended`);
        t.equal(patched.spec.containers[0].name, 'payment-service', `${label}: application stays first`);
      }
      if (name === 'existing init containers') t.equal(patched.spec.initContainers.at(-1).name, 'migrate', `${label}: own init containers run after the redirect`);
      t.same(JSON.parse(patched.metadata.annotations['sidecar.portcullis.io/status']), plan.status);
      t.equal(patched.metadata.annotations['kubectl.kubernetes.io/default-container'], 'payment-service');
      t.ok(patched.spec.volumes.some((v: any) => v.name === 'portcullis-token'));
    }
  }
});

t.test('names already taken are refused, not duplicated', async (t) => {
  const template = SidecarTemplate.load(undefined, []);
  const sidecar = template.sidecar({ namespace: 'n', name: 'p', serviceAccount: 'sa', cluster: { name: 'c', trustDomain: 'td' }, overrides: {}, trustBundle: 'test-ca' });
  const handWritten = pod();
  handWritten.spec.containers.push({ name: 'portcullis-proxy' });
  t.match(injectionPatch(handWritten, sidecar, { nativeSidecar: false, revision: 'r' }), /already has a container named "portcullis-proxy"/);
  const volume = pod();
  volume.spec.volumes?.push({ name: 'portcullis-token' });
  t.match(injectionPatch(volume, sidecar, { nativeSidecar: false, revision: 'r' }), /volume name "portcullis-token" is reserved/);
  const mount = pod();
  (mount.spec.containers[0] as any).volumeMounts = [{ name: 'portcullis-token', mountPath: '/keys' }];
  t.match(injectionPatch(mount, sidecar, { nativeSidecar: false, revision: 'r' }), /container "payment-service" mounts volume "portcullis-token", which is reserved for the Portcullis sidecar/, 'a mount the sidecar would satisfy');
});

t.test('malformed Pods are described, not crashed on', async (t) => {
  t.match(asPod({ spec: { containers: 'app' } }), /spec.containers must be array/);
  t.match(asPod({ metadata: { labels: { a: 1 } }, spec: { containers: [{ name: 'a' }] } }), /metadata.labels.a must be string/);
  t.match(asPod({}), /must have required property 'spec'/);
  t.type(asPod(pod()), 'object');
});

t.test('the claim check covers the native sidecar layout and its order', async (t) => {
  const template = SidecarTemplate.load(undefined, []);
  const sidecar = template.sidecar({ namespace: 'payments', name: 'p', serviceAccount: 'payment-service', cluster: { name: 'c', trustDomain: 'td' }, overrides: {}, trustBundle: 'test-ca' });
  const original = pod();
  original.spec.initContainers = [{ name: 'migrate', image: 'registry.example.com/migrate:1' } as any];
  const plan = injectionPatch(original, sidecar, { nativeSidecar: true, revision: template.revision });
  if (typeof plan === 'string') throw new Error(plan);
  const injected = fastJsonPatch.applyPatch(structuredClone(original), plan.ops as fastJsonPatch.Operation[], true, false).newDocument as Pod;
  t.same(injected.spec.initContainers?.map((c) => c.name), ['portcullis-init', 'portcullis-proxy', 'migrate']);
  t.equal(verifyInjected(injected, sidecar, plan.status), undefined, 'the injected Pod holds what the template renders');

  const swapped = structuredClone(injected);
  swapped.spec.initContainers = [swapped.spec.initContainers![1]!, swapped.spec.initContainers![0]!, swapped.spec.initContainers![2]!];
  t.match(verifyInjected(swapped, sidecar, plan.status), /initContainers must start with "portcullis-init", "portcullis-proxy" \(found "portcullis-proxy", "portcullis-init"\)/);
  const between = structuredClone(injected);
  between.spec.initContainers!.splice(1, 0, { name: 'early', image: 'registry.example.com/early:1' } as any);
  t.match(verifyInjected(between, sidecar, plan.status), /found "portcullis-init", "early"/, 'nothing between the redirect and the proxy');
  t.match(verifyInjected(injected, sidecar, { ...plan.status, nativeSidecar: false }), /is not the one the injector writes/, 'the layout is the one the status names');
  const noRestart = structuredClone(injected);
  delete (noRestart.spec.initContainers![1] as any).restartPolicy;
  t.match(verifyInjected(noRestart, sidecar, plan.status), /"portcullis-proxy" differs in restartPolicy/, 'a proxy that stops would hold back the Pod');
  const debug = structuredClone(injected);
  debug.spec.ephemeralContainers = [{ name: 'shell', image: 'registry.example.com/debug:1', volumeMounts: [{ name: 'portcullis-token', mountPath: '/t' }] } as any];
  t.match(verifyInjected(debug, sidecar, plan.status), /container "shell" mounts the sidecar's volume "portcullis-token"/);
});
