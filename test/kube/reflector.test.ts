// The Reflector's list, as the posture audit uses it: pages applied one at a time (a large collection is
// never held whole), the event loop given back within a page when `keep` is costly, and resync() on demand.
// Pages come from a list function of the test; the watch after them is the real API server's.
import { type KubernetesObject } from '@kubernetes/client-node';
import t, { type Test } from 'tap';
import { Reflector, type Page } from '../../src/kube/reflector.js';
import { cluster, memoryLog, testNamespace } from './support.js';

const c = await cluster();
const ns = await testNamespace(t, c, 'reflector');
const { metadata } = await c.core.listNamespacedConfigMap({ namespace: ns });
const resourceVersion = metadata?.resourceVersion ?? '';

function start(t: Test, options: { pages: number; perPage: number; keepMs?: number; sliceMs?: number }) {
  const trace: string[] = [];
  const pages: Array<Array<KubernetesObject | undefined>> = [];
  let relists = 0;
  const list = async (page: Page) => {
    const index = page._continue ? Number(page._continue) : 0;
    if (index === 0) relists++;
    trace.push(`list ${index}`);
    const items: KubernetesObject[] = Array.from({ length: options.perPage }, (_, i) => ({ metadata: { name: `o${index}-${i}`, namespace: ns } }));
    pages.push(items);
    return { items, metadata: { resourceVersion, ...(index + 1 < options.pages ? { _continue: String(index + 1) } : {}) } };
  };
  const reflector = new Reflector<KubernetesObject, string>({
    name: 'test',
    kc: c.kc,
    path: `/api/v1/namespaces/${ns}/configmaps`,
    list,
    pageSize: options.perPage,
    keep: (o) => {
      const page = pages[pages.length - 1] ?? [];
      trace.push(`keep ${o.metadata?.name}`, `held ${page.filter((x) => x !== undefined).length}`);
      if (options.keepMs) for (const end = performance.now() + options.keepMs; performance.now() < end; );
      return o.metadata?.name ?? '';
    },
    resyncMs: 600_000,
    ...(options.sliceMs ? { sliceMs: options.sliceMs } : {}),
    watchTimeoutSeconds: 30,
    retryMs: 200,
    log: memoryLog(),
  });
  reflector.start();
  t.teardown(() => reflector.stop());
  return { reflector, trace: { keeps: () => trace.filter((x) => !x.startsWith('held')), all: trace }, relists: () => relists };
}

t.test('each page is applied before the next is asked for', async (t) => {
  const { reflector, trace } = start(t, { pages: 3, perPage: 2 });
  await reflector.whenSynced(10_000);
  t.same(trace.keeps(), ['list 0', 'keep o0-0', 'keep o0-1', 'list 1', 'keep o1-0', 'keep o1-1', 'list 2', 'keep o2-0', 'keep o2-1']);
  t.equal([...reflector.values()].length, 6);
});

t.test('each object of a page is let go once kept, not when the whole page is done', async (t) => {
  const { reflector, trace } = start(t, { pages: 2, perPage: 4 });
  await reflector.whenSynced(10_000);
  const held = trace.all.filter((x) => x.startsWith('held')).map((x) => Number(x.slice(5)));
  t.same(held, [4, 3, 2, 1, 4, 3, 2, 1], 'the page holds only the objects not yet kept');
  t.equal([...reflector.values()].length, 8, 'what keep returned is stored');
});

t.test('a costly keep gives the event loop back within a page', async (t) => {
  const { reflector, trace: traced } = start(t, { pages: 1, perPage: 20, keepMs: 2, sliceMs: 5 });
  const trace = traced.all;
  const ticks = setInterval(() => trace.push('tick'), 1);
  t.teardown(() => clearInterval(ticks));
  await reflector.whenSynced(10_000);
  clearInterval(ticks);
  const first = trace.indexOf('keep o0-0');
  const last = trace.indexOf('keep o0-19');
  t.ok(trace.slice(first, last).includes('tick'), 'timers ran between the objects of one page');
});

t.test('resync() lists again and resolves once that list is applied', async (t) => {
  const { reflector, trace, relists } = start(t, { pages: 2, perPage: 1 });
  await reflector.whenSynced(10_000);
  t.equal(relists(), 1);
  trace.all.length = 0;
  await reflector.resync();
  t.equal(relists(), 2, 'one more list');
  t.same(trace.keeps(), ['list 0', 'keep o0-0', 'list 1', 'keep o1-0'], 'every object kept again before it resolved');
  await Promise.all([reflector.resync(), reflector.resync()]);
  t.ok(relists() >= 3 && relists() <= 4, 'two calls at once share a list or take two, never none');
  t.ok(reflector.status().watches >= 1, 'the watch went on between the lists');
});
