// The Envoy bootstraps the sidecar template renders, judged by Envoy's own API definitions (tools/envoy-validate:
// go-control-plane's Bootstrap with unknown fields refused, the generated validations run on it and on every
// typed_config, and the clusters it names defined), over every way a Pod or the values change them; then what
// they must say for the mesh to hold.
import t from 'tap';
import { meshAuthorityRegex } from '../../src/admission/injection/bootstrap.js';
import { SidecarTemplate, type PodFacts } from '../../src/admission/injection/sidecar.js';
import { ensureDevCertificates } from '../../src/certs/dev.js';
import type { DataObject } from '../../src/policy/data.js';
import { validateBootstraps } from '../helpers/envoy-validate.js';
import { bootstrapOf, clusterTarget, sdsServiceOf } from '../helpers/sidecar.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = await mkdtemp(join(tmpdir(), 'portcullis-bootstrap-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const ca = (await ensureDevCertificates(dir)).ca.cert;

const pod = (overrides: PodFacts['overrides'] = {}, edit: Partial<PodFacts> = {}): PodFacts => ({
  namespace: 'payments',
  name: 'payment-service-7d9f',
  serviceAccount: 'payment-service',
  cluster: { name: 'prod', trustDomain: 'cluster.local' },
  overrides,
  trustBundle: ca,
  ...edit,
});

const variants: Array<[string, DataObject, PodFacts]> = [
  ['defaults', {}, pod()],
  ['every traffic annotation', {}, pod({ excludeInboundPorts: '8080,9090', excludeOutboundPorts: '5432', includeOutboundIPRanges: '10.0.0.0/8,fd00::/8', excludeOutboundIPRanges: '169.254.169.254/32' })],
  ['resource annotations', {}, pod({ cpu: '2', memory: '2Gi' })],
  ['in-mesh ranges and suffixes', { mesh: { cidrs: ['10.0.0.0/8', '172.16.0.0/12', 'fd00::/8'], hostSuffixes: ['.mesh.internal', 'corp.example'], clusterDomain: 'k8s.example' } }, pod()],
  ['other ports and UID', { proxy: { uid: 2102, ports: { inbound: 4143, outbound: 4140, health: 4191, metrics: 4192 } } }, pod()],
  ['the chart\'s addresses', { authz: { address: 'edge-portcullis.mesh-control.svc:9191', timeout: '250ms' }, sds: { address: 'edge-portcullis.mesh-control.svc:15012' } }, pod()],
  ['an IPv6 authz address', { authz: { address: '[fd00::10]:9191' } }, pod()],
  ['an operator CA bundle for the SDS server', { sds: { caBundle: ca } }, pod({}, { trustBundle: '' })],
  ['another trust domain', {}, pod({}, { cluster: { name: 'us-west', trustDomain: 'us-west.mesh.example' }, namespace: 'kube-public', serviceAccount: 'default' })],
  ['a CA rollover (two CAs)', {}, pod({}, { trustBundle: `${ca}${ca}` })],
];

const rendered = variants.map(([name, values, facts]) => {
  const sidecar = SidecarTemplate.load(undefined, [values]).sidecar(facts);
  return { name, sidecar, bootstrap: bootstrapOf(sidecar.containers[0]) };
});

t.test('every rendered bootstrap passes the Envoy API validation', async (t) => {
  const verdict = await validateBootstraps(rendered.map((r) => r.bootstrap));
  t.equal(verdict.lines.length, rendered.length, 'one verdict per bootstrap');
  for (const [i, line] of verdict.lines.entries()) t.match(line, /^ok /, `${rendered[i]?.name}: ${line}`);
  t.ok(verdict.ok);
});

t.test('the validation catches what Envoy would refuse', async (t) => {
  const base = rendered[0]!.bootstrap;
  const broken: Array<[string, (b: any) => void, RegExp]> = [
    ['an unknown field', (b) => (b.static_resources.listeners[0].use_original_destination = true), /unknown field "use_original_destination"/],
    ['an unknown field inside a typed_config', (b) => (b.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.failure_mode = 'allow'), /unknown field "failure_mode"/],
    ['an enum value Envoy does not have', (b) => (b.static_resources.clusters[0].lb_policy = 'PASSTHROUGH'), /lb_policy|LbPolicy|enum/i],
    ['a field validation (a port out of range)', (b) => (b.static_resources.listeners[0].address.socket_address.port_value = 70000), /PortValue|port_value/i],
    ['a validation inside a typed_config (an empty stat prefix)', (b) => (b.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.stat_prefix = ''), /StatPrefix/],
    ['a route to a cluster that does not exist', (b) => b.static_resources.clusters.splice(b.static_resources.clusters.findIndex((c: any) => c.name === 'portcullis-authz'), 1), /cluster "portcullis-authz" is referred to but not defined/],
  ];
  const docs = broken.map(([, edit]) => {
    const b = structuredClone(base);
    edit(b);
    return b;
  });
  const verdict = await validateBootstraps(docs);
  t.equal(verdict.ok, false);
  for (const [i, [what, , problem]] of broken.entries()) {
    const lines = verdict.lines.filter((l) => l.includes(`[${i}]`));
    t.ok(lines.length > 0 && lines.every((l) => l.startsWith('invalid ')), `refused: ${what}`);
    t.match(lines.join('\n'), problem, what);
  }
});

t.test('inbound: mutual TLS only, ext_authz failing closed, then the application', async (t) => {
  const b = rendered[0]!.bootstrap;
  const inbound = b.static_resources.listeners.find((l: any) => l.name === 'inbound');
  t.same(inbound.address.socket_address, { address: '0.0.0.0', port_value: 15006 });
  t.same(inbound.listener_filters.map((f: any) => f.name), ['envoy.filters.listener.original_dst', 'envoy.filters.listener.tls_inspector']);
  t.notOk(inbound.default_filter_chain, 'no chain for plain text: it is closed');
  t.equal(inbound.filter_chains.length, 2);
  for (const chain of inbound.filter_chains) {
    t.equal(chain.filter_chain_match.transport_protocol, 'tls', `${chain.name}: TLS only`);
    const tls = chain.transport_socket.typed_config;
    t.equal(tls.require_client_certificate, true, `${chain.name}: a client certificate is required`);
    t.equal(tls.common_tls_context.tls_params.tls_minimum_protocol_version, 'TLSv1_2');
    t.same(tls.common_tls_context.tls_certificate_sds_secret_configs.map((s: any) => s.name), ['default'], 'the workload certificate from SDS');
    t.equal(tls.common_tls_context.combined_validation_context.validation_context_sds_secret_config.name, 'ROOTCA', 'clients checked against the trust bundle from SDS');
    t.same(tls.common_tls_context.combined_validation_context.default_validation_context.match_typed_subject_alt_names, [{ san_type: 'URI', matcher: { prefix: 'spiffe://' } }], 'and must carry a SPIFFE ID');
  }
  const [http, tcp] = inbound.filter_chains;
  const hcm = http.filters[0].typed_config;
  t.same(hcm.http_filters.map((f: any) => f.name), ['envoy.filters.http.ext_authz', 'envoy.filters.http.router'], 'ext_authz before the router');
  t.match(hcm.http_filters[0].typed_config, { failure_mode_allow: false, transport_api_version: 'V3', include_peer_certificate: true, grpc_service: { envoy_grpc: { cluster_name: 'portcullis-authz' }, timeout: '0.5s' } });
  t.match(hcm, { forward_client_cert_details: 'SANITIZE_SET', normalize_path: true, merge_slashes: true });
  t.equal(hcm.route_config.virtual_hosts[0].routes[0].route.cluster, 'inbound-app');
  t.same(tcp.filters.map((f: any) => f.name), ['envoy.filters.network.ext_authz', 'envoy.filters.network.tcp_proxy'], 'TCP is authorized too');
  t.match(tcp.filters[0].typed_config, { failure_mode_allow: false, include_peer_certificate: true });
  const app = b.static_resources.clusters.find((c: any) => c.name === 'inbound-app');
  t.match(app, { type: 'ORIGINAL_DST', lb_policy: 'CLUSTER_PROVIDED' }, 'to the original destination: the application');
  t.equal(clusterTarget(b, 'portcullis-authz'), 'portcullis.portcullis-system.svc:9191');
});

t.test('outbound: mutual TLS to in-mesh destinations with their SPIFFE ID checked, the rest passed through', async (t) => {
  const plain = rendered[0]!.bootstrap;
  const outbound = (b: any) => b.static_resources.listeners.find((l: any) => l.name === 'outbound');
  t.same(outbound(plain).filter_chains.map((c: any) => c.name), ['outbound-http'], 'without in-mesh ranges, HTTP is told by its name');
  t.same(outbound(plain).default_filter_chain.filters[0].typed_config.cluster, 'passthrough', 'anything else passes through');
  const routes = outbound(plain).filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes;
  t.equal(routes[0].route.cluster, 'outbound-mesh-http');
  t.equal(routes[1].route.cluster, 'passthrough');
  for (const name of ['outbound-mesh-http', 'outbound-mesh-tcp']) {
    const cluster = plain.static_resources.clusters.find((c: any) => c.name === name);
    const tls = cluster.transport_socket.typed_config;
    t.equal(tls['@type'], 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext');
    t.same(tls.common_tls_context.combined_validation_context.default_validation_context.match_typed_subject_alt_names, [{ san_type: 'URI', matcher: { prefix: 'spiffe://cluster.local/' } }], `${name}: the destination is a workload of the trust domain`);
    t.equal(tls.common_tls_context.combined_validation_context.validation_context_sds_secret_config.name, 'ROOTCA');
  }
  const ranged = rendered[3]!.bootstrap;
  t.same(outbound(ranged).filter_chains.map((c: any) => c.name), ['outbound-mesh-http', 'outbound-mesh-tcp', 'outbound-http']);
  t.same(outbound(ranged).filter_chains[1].filter_chain_match.prefix_ranges, [
    { address_prefix: '10.0.0.0', prefix_len: 8 },
    { address_prefix: '172.16.0.0', prefix_len: 12 },
    { address_prefix: 'fd00::', prefix_len: 8 },
  ]);
  const other = rendered[8]!.bootstrap.static_resources.clusters.find((c: any) => c.name === 'outbound-mesh-tcp');
  t.equal(other.transport_socket.typed_config.common_tls_context.combined_validation_context.default_validation_context.match_typed_subject_alt_names[0].matcher.prefix, 'spiffe://us-west.mesh.example/');
});

t.test('which HTTP authorities are inside the mesh', async (t) => {
  // RE2's (?i) is JavaScript's i flag; the rest of the expression means the same in both.
  const regex = (mesh: { clusterDomain: string; hostSuffixes: string[] }) => new RegExp(meshAuthorityRegex({ ...mesh, cidrs: [] }).replace('(?i)', ''), 'i');
  const local = regex({ clusterDomain: 'cluster.local', hostSuffixes: ['.mesh.internal'] });
  for (const host of ['payments', 'payments:8080', 'payments.payments.svc', 'payments.payments.svc:9090', 'Payments.Payments.SVC.cluster.local', 'db.mesh.internal:5432']) t.ok(local.test(host), `${host} is in the mesh`);
  for (const host of ['example.com', 'api.example.com:443', '10.0.0.5:8080', 'payments.payments', 'svc.example.com', 'evil.svc.cluster.local.example.com', 'payments.svc.evil.io']) t.notOk(local.test(host), `${host} is not`);
});

t.test('admin on a private socket; readiness and metrics on their ports, nothing else of the admin', async (t) => {
  const b = rendered[0]!.bootstrap;
  t.same(b.admin.address, { pipe: { path: '/var/run/portcullis/run/admin.sock', mode: 0o600 } }, 'no TCP admin port at all; only the proxy UID can open it');
  const listener = (name: string) => b.static_resources.listeners.find((l: any) => l.name === name);
  const routes = (name: string) => listener(name).filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes;
  t.equal(listener('health').address.socket_address.port_value, 15021);
  t.same(routes('health')[0], { match: { path: '/healthz/ready' }, route: { cluster: 'admin', prefix_rewrite: '/ready' } });
  t.equal(listener('metrics').address.socket_address.port_value, 15090);
  t.same(routes('metrics')[0], { match: { path: '/stats/prometheus' }, route: { cluster: 'admin' } });
  for (const name of ['health', 'metrics']) t.same(routes(name).at(-1), { match: { prefix: '/' }, direct_response: { status: 404 } }, `${name}: any other admin path is a 404`);
  const other = rendered[4]!.bootstrap;
  t.same(other.static_resources.listeners.map((l: any) => l.address.socket_address.port_value), [4143, 4140, 4191, 4192], 'ports from the values');
});

t.test('certificates over SDS from Portcullis, authenticated with the Pod token', async (t) => {
  const b = rendered[0]!.bootstrap;
  const configs = b.static_resources.listeners.flatMap((l: any) => (l.filter_chains ?? []).map((c: any) => c.transport_socket?.typed_config.common_tls_context).filter(Boolean));
  const clusters = b.static_resources.clusters.map((c: any) => c.transport_socket?.typed_config.common_tls_context).filter(Boolean);
  const references = [...configs, ...clusters].flatMap((c: any) => [...c.tls_certificate_sds_secret_configs, c.combined_validation_context.validation_context_sds_secret_config]);
  t.equal(references.length, 8, 'four TLS contexts, each with the certificate and the trust bundle');
  t.ok(references.every((r: any) => JSON.stringify(r.sds_config) === JSON.stringify({ ads: {}, resource_api_version: 'V3', initial_fetch_timeout: '0s' })), 'all over the one ADS stream; listeners wait for their certificates');
  t.match(b.dynamic_resources.ads_config, { api_type: 'GRPC', transport_api_version: 'V3' });
  t.notOk(b.dynamic_resources.lds_config || b.dynamic_resources.cds_config, 'and nothing but secrets comes over it');
  const google = sdsServiceOf(b);
  t.equal(google.target_uri, 'portcullis.portcullis-system.svc:15012');
  t.equal(google.channel_credentials.ssl_credentials.root_certs.inline_string, ca, 'the SDS server is checked against the mesh trust bundle');
  t.match(google.call_credentials[0].from_plugin, { name: 'envoy.grpc_credentials.file_based_metadata', typed_config: { secret_data: { filename: '/var/run/portcullis/token/token' }, header_prefix: 'Bearer ' } });
  t.equal(sdsServiceOf(bootstrapOf(rendered[7]!.sidecar.containers[0])).channel_credentials.ssl_credentials.root_certs.inline_string, ca, 'or an operator-provided bundle');
  t.throws(() => SidecarTemplate.load(undefined, []).sidecar(pod({}, { trustBundle: '' })), /no CA bundle for the SDS server/, 'no bundle, no sidecar: it could not tell the SDS server from anyone');
});

t.test("a workload's Pods share one rendering; a new trust bundle makes a new one", async (t) => {
  const template = SidecarTemplate.load(undefined, []);
  const first = template.sidecar(pod());
  t.equal(template.sidecar(pod()), first, 'the same Pod facts: the same sidecar, rendered once');
  t.ok(Object.isFrozen(first.containers[0]) && Object.isFrozen((first.containers[0] as unknown as { args: string[] }).args), 'and nobody can change it');
  const rolled = template.sidecar(pod({}, { trustBundle: `${ca}${ca}` }));
  t.not(rolled, first);
  t.not(sdsServiceOf(bootstrapOf(rolled.containers[0])).channel_credentials.ssl_credentials.root_certs.inline_string, ca, 'the bootstrap trusts the new bundle');
  t.not(template.sidecar(pod({ excludeInboundPorts: '8080' })), first, 'an annotation changes it');
});
