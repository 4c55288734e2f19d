// Informer facts against the real API server: namespaces and Pods appear, change and disappear; when
// the API server goes away the last known state keeps answering, and what changed meanwhile (deletions
// included) arrives with the relist after it comes back; a dropped watch reconnects.
import { ApiException, CoreV1Api, PatchStrategy, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import t, { type Test } from 'tap';
import { MeshBuilder } from '../../src/authz/mesh.js';
import { InformerFacts } from '../../src/kube/facts.js';
import { type Page, Reflector } from '../../src/kube/reflector.js';
import { parseConfig } from '../../src/server/config.js';
import { apiProxy } from './proxy.js';
import { cluster, memoryLog, suffix, testNamespace, until } from './support.js';

t.setTimeout(180_000);
const c = await cluster();

async function pod(namespace: string, name: string, serviceAccount: string, ip: string, labels: Record<string, string> = {}): Promise<void> {
  const created = await c.core.createNamespacedPod({
    namespace,
    body: { metadata: { name, labels }, spec: { serviceAccountName: serviceAccount, automountServiceAccountToken: false, containers: [{ name: 'app', image: 'registry.example.com/app:1' }] } },
  });
  // No kubelet here: the status a kubelet would report is written by hand, through the status subresource.
  const body: V1Pod = { ...created, status: { phase: 'Running', podIP: ip, podIPs: [{ ip }] } };
  await c.core.replaceNamespacedPodStatus({ name, namespace, body });
}

const start = (kc = c.kc, resyncMs = 60_000) => {
  const log = memoryLog();
  const facts = new InformerFacts({ kc, resyncMs, watchTimeoutSeconds: 30, retryMs: 200, log });
  facts.start();
  t.teardown(() => facts.stop());
  return { facts, log };
};

t.test('namespaces and Pods appear, change and disappear', async (t) => {
  const { facts } = start();
  await until('synced', () => facts.synced());
  const ns = await testNamespace(t, c, 'facts', { 'portcullis.io/injection': 'enabled' });
  const found = await until('namespace', () => facts.namespace(ns));
  t.same(found.labels['portcullis.io/injection'], 'enabled', 'labels of a new namespace');

  await pod(ns, 'web-1', 'web', '10.7.0.11', { app: 'web', version: 'v1' });
  const p = await until('pod by IP', () => facts.podByIp('10.7.0.11'));
  t.match(p, { name: 'web-1', namespace: ns, serviceAccount: 'web', labels: { app: 'web', version: 'v1' } });
  t.same(facts.podsByIdentity(ns, 'web').map((x) => x.name), ['web-1'], 'by identity');

  const current = await c.core.readNamespacedPod({ name: 'web-1', namespace: ns });
  await c.core.replaceNamespacedPod({ name: 'web-1', namespace: ns, body: { ...current, metadata: { ...current.metadata, labels: { app: 'web', version: 'v2' } } } });
  await until('label update', () => facts.podByIp('10.7.0.11')?.labels.version === 'v2');
  t.pass('a label change is seen');

  const nsObject = await c.core.readNamespace({ name: ns });
  await c.core.replaceNamespace({ name: ns, body: { ...nsObject, metadata: { ...nsObject.metadata, labels: { ...nsObject.metadata?.labels, 'portcullis.io/injection': 'disabled' } } } });
  await until('namespace label update', () => facts.namespace(ns)?.labels['portcullis.io/injection'] === 'disabled');
  t.pass('a namespace label change is seen');

  await c.core.deleteNamespacedPod({ name: 'web-1', namespace: ns, gracePeriodSeconds: 0 });
  await until('pod gone', () => facts.podByIp('10.7.0.11') === undefined);
  t.same(facts.podsByIdentity(ns, 'web'), [], 'gone by identity too');
});

t.test('the API server goes away and comes back: last known state, then a relist', async (t) => {
  const proxy = await apiProxy(c.kc);
  t.teardown(() => proxy.close());
  const { facts, log } = start(proxy.kc);
  const ns = await testNamespace(t, c, 'facts-away');
  await pod(ns, 'stays', 'app', '10.7.1.1', { app: 'stays' });
  await pod(ns, 'goes', 'app', '10.7.1.2', { app: 'goes' });
  await until('both pods', () => facts.podByIp('10.7.1.1') && facts.podByIp('10.7.1.2'));

  await proxy.down();
  await until('the informers notice', () => log.lines.some((l) => l.msg.startsWith('list or watch failed')));
  // Changes the informers cannot see while they are cut off.
  await c.core.deleteNamespacedPod({ name: 'goes', namespace: ns, gracePeriodSeconds: 0 });
  await pod(ns, 'new', 'app', '10.7.1.3', { app: 'new' });
  await new Promise((r) => setTimeout(r, 1000));
  t.ok(facts.podByIp('10.7.1.1'), 'still answering from the last known state');
  t.ok(facts.podByIp('10.7.1.2'), 'including what was deleted meanwhile (not known yet)');
  t.ok(facts.namespace(ns), 'namespaces too');
  t.ok(facts.synced(), 'still counted as synced: the state is known, only stale');
  t.equal(facts.status().pods.connected, false, 'status shows the lost connection');

  await proxy.up();
  await until('relist brings the deletion', () => facts.podByIp('10.7.1.2') === undefined, 30_000);
  await until('and the new pod', () => facts.podByIp('10.7.1.3'), 30_000);
  t.ok(facts.podByIp('10.7.1.1'), 'the unchanged pod is still there');
  await until('connected again', () => facts.status().pods.connected && facts.status().namespaces.connected);
  t.pass('both informers reconnected');
});

t.test('a watch dropped mid-stream reconnects and misses nothing', async (t) => {
  const proxy = await apiProxy(c.kc);
  t.teardown(() => proxy.close());
  const { facts } = start(proxy.kc);
  const ns = await testNamespace(t, c, 'facts-cut');
  await until('namespace seen', () => facts.namespace(ns));
  for (let i = 0; i < 3; i++) {
    proxy.cut();
    await pod(ns, `p${i}`, 'app', `10.7.2.${i + 1}`);
  }
  await until('every pod created around the cuts', () => [1, 2, 3].every((i) => facts.podByIp(`10.7.2.${i}`)), 30_000);
  t.pass('all three pods seen');
});

t.test('resync: a periodic relist repairs a store that drifted', async (t) => {
  const { facts } = start(c.kc, 1500);
  const ns = await testNamespace(t, c, 'facts-resync');
  await pod(ns, 'real', 'app', '10.7.3.1');
  await until('pod', () => facts.podByIp('10.7.3.1'));
  // Something the API server never had (as after a missed event); the next relist must drop it.
  (facts.pods as unknown as { store: Map<string, unknown> }).store.set(`${ns}/ghost`, { name: 'ghost', namespace: ns, serviceAccount: 'app', labels: {} });
  const relists: number[] = [];
  facts.pods.on('synced', () => relists.push(Date.now()));
  await until('a relist', () => relists.length > 0, 10_000);
  t.notOk(facts.pods.get(`${ns}/ghost`), 'the drifted entry is gone after the resync');
  t.ok(facts.podByIp('10.7.3.1'), 'the real pod stays');
});

/** A Reflector on one namespace's Pods in pages of two, recording each page it asks for; `expire` answers continued pages with 410. */
async function pagedPods(t: Test, ns: string, options: { expire?: boolean } = {}) {
  const api = c.kc.makeApiClient(CoreV1Api);
  const pages: Page[] = [];
  const log = memoryLog();
  const reflector = new Reflector<V1Pod, string>({
    name: 'paged',
    kc: c.kc,
    path: `/api/v1/namespaces/${ns}/pods`,
    list: async (page) => {
      pages.push(page);
      // What the API server answers once etcd compacted the snapshot behind the token (minutes later).
      if (options.expire && page._continue) throw new ApiException(410, 'Expired', { message: 'The provided continue parameter is too old' }, {});
      return api.listNamespacedPod({ namespace: ns, ...page });
    },
    pageSize: 2,
    keep: (p) => p.metadata?.name ?? '',
    resyncMs: 60_000,
    watchTimeoutSeconds: 30,
    retryMs: 200,
    log,
  });
  reflector.start();
  t.teardown(() => reflector.stop());
  await reflector.whenSynced(20_000);
  return { reflector, pages, log };
}

t.test('lists are read in pages: every object arrives, one request per page, and the watch goes on from there', async (t) => {
  const ns = await testNamespace(t, c, 'facts-pages');
  for (let i = 0; i < 5; i++) await pod(ns, `p${i}`, 'app', `10.7.3.${i + 1}`);
  const { reflector, pages } = await pagedPods(t, ns);
  t.same([...reflector.values()].sort(), ['p0', 'p1', 'p2', 'p3', 'p4']);
  t.equal(pages.length, 3, 'five Pods in pages of two');
  t.same(pages[0], { limit: 2 }, 'the first page has no continue token');
  t.ok(pages[1]?._continue && pages[2]?._continue && pages[1]._continue !== pages[2]._continue, 'each next page continues the one before');
  await pod(ns, 'p5', 'app', '10.7.3.6');
  await until('a Pod created after the paged list', () => reflector.get(`${ns}/p5`));
});

t.test('a continue token that expired (410) starts the list over in one request', async (t) => {
  const ns = await testNamespace(t, c, 'facts-expired');
  for (let i = 0; i < 3; i++) await pod(ns, `q${i}`, 'app', `10.7.4.${i + 1}`);
  const { reflector, pages, log } = await pagedPods(t, ns, { expire: true });
  t.same([...reflector.values()].sort(), ['q0', 'q1', 'q2'], 'nothing missing, nothing twice');
  t.same(pages.at(-1), {}, 'the last request lists everything at once');
  t.ok(log.lines.some((l) => l.msg.startsWith('list continuation expired')), 'and says why');
});

t.test("a caller's region is its Node's label, which the Pod's own label cannot override", async (t) => {
  const node = `node-${suffix()}`;
  await c.core.createNode({ body: { metadata: { name: node, labels: { 'topology.kubernetes.io/region': 'eu-west-1' } } } });
  t.teardown(() => c.core.deleteNode({ name: node }));
  const ns = await testNamespace(t, c, 'facts-node');
  const created = await c.core.createNamespacedPod({
    namespace: ns,
    // Already scheduled (spec.nodeName), claiming another region in its own labels.
    body: { metadata: { name: 'liar', labels: { 'topology.kubernetes.io/region': 'us-east-1' } }, spec: { nodeName: node, serviceAccountName: 'app', automountServiceAccountToken: false, containers: [{ name: 'app', image: 'registry.example.com/app:1' }] } },
  });
  await c.core.replaceNamespacedPodStatus({ name: 'liar', namespace: ns, body: { ...created, status: { phase: 'Running', podIP: '10.7.5.1', podIPs: [{ ip: '10.7.5.1' }] } } });

  const log = memoryLog();
  const facts = new InformerFacts({ kc: c.kc, resyncMs: 60_000, watchTimeoutSeconds: 30, retryMs: 200, nodes: true, log });
  facts.start();
  t.teardown(() => facts.stop());
  await until('synced', () => facts.synced());
  t.equal((await until('the Pod', () => facts.podByIp('10.7.5.1'))).node, node);
  t.equal(await until('the Node', () => facts.nodeRegion(node)), 'eu-west-1');

  const mesh = new MeshBuilder(parseConfig({}).authz, facts, undefined, { name: 'test', trustDomain: 'cluster.local' });
  const source = (ip: string) => mesh.build({ source: { address: { socketAddress: { address: ip, portValue: 40000 } } } }, { verified: false, error: 'missing' }).source;
  t.equal(source('10.7.5.1').region, 'eu-west-1', "the Node's region, not the Pod's claim");

  await c.core.patchNode({ name: node, body: [{ op: 'replace', path: '/metadata/labels/topology.kubernetes.io~1region', value: 'eu-central-1' }] }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch));
  await until('the relabelled Node', () => facts.nodeRegion(node) === 'eu-central-1');
  t.equal(source('10.7.5.1').region, 'eu-central-1', 'follows the Node');
  t.same(Object.keys(facts.status()).sort(), ['namespaces', 'nodes', 'pods']);
});

t.test('without Node regions no Node is watched and the Pod label is the region', async (t) => {
  const facts = new InformerFacts({ kc: c.kc, resyncMs: 60_000, watchTimeoutSeconds: 30, retryMs: 200, log: memoryLog() });
  t.equal(facts.nodes, undefined);
  t.equal(facts.nodeRegion('any'), undefined);
  t.notOk('nodes' in facts.status());
});

t.test('stop() right after the first list ends the watch being opened instead of waiting out its timeout', async (t) => {
  const { facts } = start();
  await facts.namespaces.whenSynced(20_000);
  const began = Date.now();
  await facts.stop();
  // The watch timeout is 30 s: a stop that missed the watch being opened would take that long.
  t.ok(Date.now() - began < 10_000, `stopped in ${Date.now() - began} ms`);
});
