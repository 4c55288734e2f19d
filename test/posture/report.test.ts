// The reports built from verdicts: bounded, most severe first, deterministic (an unchanged report is never
// written again, whatever order objects were judged in), and read back the same way a new leader reads them.
import t from 'tap';
import { canonical } from '../../src/posture/report-writer.js';
import { clusterReport, namespaceReport } from '../../src/posture/report.js';
import { matchesSelector } from '../../src/posture/label-selector.js';
import { VerdictStore } from '../../src/posture/store.js';
import { verdictOf, type Finding } from '../../src/posture/verdict.js';

const identity = (name: string, uid = `uid-${name}`, kind = 'Pod') => ({ uid, apiVersion: kind === 'Pod' ? 'v1' : 'apps/v1', kind: kind === 'Pod' ? 'Pod' : `apps/${kind}`, namespace: 'shop', name });
const finding = (rule: string, enforcement: Finding['enforcement'] = 'deny', msg = `${rule} broken`): Finding => ({ rule, enforcement, msg });

t.test('results capped at maxResults, the most severe kept, the summary whole', async (t) => {
  const store = new VerdictStore();
  for (let i = 0; i < 30; i++) store.set(`Pod/shop/w${i}`, verdictOf(identity(`w${i}`), { violations: [finding('required-labels', 'warn')] }), 100);
  store.set('Pod/shop/priv', verdictOf(identity('priv'), { violations: [finding('no-privileged'), finding('image-tag-pinned', 'dryrun')] }), 100);
  store.set('Pod/shop/broken', verdictOf(identity('broken'), { violations: [], error: 'evaluating: out of memory' }), 100);
  store.set('Pod/shop/ok', verdictOf(identity('ok'), { violations: [] }), 100);
  const r = namespaceReport(store, 'shop', { name: 'portcullis-posture', maxResults: 5 });
  t.equal(r.results.length, 5);
  t.same(r.results.map((x) => [x.result, x.policy, x.resources[0]?.name]), [
    ['error', 'evaluation', 'broken'],
    ['fail', 'no-privileged', 'priv'],
    ['warn', 'required-labels', 'w0'],
    ['warn', 'required-labels', 'w1'],
    ['warn', 'required-labels', 'w10'],
  ]);
  t.same(r.summary, { pass: 1, fail: 1, warn: 31, error: 1, skip: 0 }, 'dryrun counts as warn: not enforced');
  t.equal(r.metadata.annotations['posture.portcullis.io/results-omitted'], String(33 - 5));
  t.same(JSON.parse(r.metadata.annotations['posture.portcullis.io/objects'] as string), { objects: 33, compliant: 1, violating: 31, errors: 1 });
  t.match(JSON.parse(r.metadata.annotations['posture.portcullis.io/rules'] as string), [
    { rule: 'no-privileged', enforcement: 'deny', violations: 1, objects: 1 },
    { rule: 'required-labels', enforcement: 'warn', violations: 30, objects: 30 },
    { rule: 'image-tag-pinned', enforcement: 'dryrun', violations: 1 },
  ]);
  t.match(r.results[1], { severity: 'high', scored: true, properties: { enforcement: 'deny' }, timestamp: { seconds: 100, nanos: 0 }, category: 'zero-trust' });
  t.match(r.results[2], { severity: 'medium', scored: false });
});

t.test('the same verdicts make the same report, in any order, and key order does not matter', async (t) => {
  const a = new VerdictStore();
  const b = new VerdictStore();
  const verdicts = ['x', 'y', 'z'].map((n) => verdictOf(identity(n), { violations: [finding('no-privileged'), finding('pod-security:capabilities', 'deny', `${n} adds NET_ADMIN`)] }));
  for (const v of verdicts) a.set(`Pod/shop/${v.name}`, v, 5);
  for (const v of [...verdicts].reverse()) b.set(`Pod/shop/${v.name}`, v, 5);
  const ra = namespaceReport(a, 'shop', { name: 'r', maxResults: 10 });
  t.equal(JSON.stringify(ra), JSON.stringify(namespaceReport(b, 'shop', { name: 'r', maxResults: 10 })));
  t.equal(ra.results.find((r) => r.policy.startsWith('pod-security'))?.category, 'pod-security', 'a rule family is its category');
  // As the API server returns it: keys sorted (Go maps), metadata it added.
  const stored = JSON.parse(JSON.stringify(ra, (_k, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => (x < y ? 1 : -1))) : v)));
  t.equal(canonical(stored), canonical(ra));
});

t.test('first-seen times survive a new verdict with the same finding, and a baseline from the reports', async (t) => {
  const store = new VerdictStore();
  store.set('Pod/shop/p', verdictOf(identity('p'), { violations: [finding('no-privileged')] }), 100);
  store.set('Pod/shop/p', verdictOf(identity('p'), { violations: [finding('no-privileged'), finding('image-tag-pinned')] }), 200);
  const times = namespaceReport(store, 'shop', { name: 'r', maxResults: 10 }).results.map((r) => [r.policy, r.timestamp.seconds]);
  t.same(times, [['image-tag-pinned', 200], ['no-privileged', 100]]);
  // Recreated under the same name: a new object, its findings new too.
  store.set('Pod/shop/p', verdictOf(identity('p', 'uid-other'), { violations: [finding('no-privileged')] }), 300);
  t.same(namespaceReport(store, 'shop', { name: 'r', maxResults: 10 }).results.map((r) => r.timestamp.seconds), [300]);

  const fresh = new VerdictStore();
  const v = verdictOf(identity('q'), { violations: [finding('no-privileged')] });
  fresh.setBaseline(new Map([['uid-q', { fingerprint: v.fingerprint, since: new Map([[`no-privileged\u0000deny\u0000no-privileged broken`, 42]]) }]]));
  t.equal(fresh.set('Pod/shop/q', v, 999), v.fingerprint, 'the verdict a report recorded is what it replaces: unchanged, nothing to announce');
  t.equal(namespaceReport(fresh, 'shop', { name: 'r', maxResults: 10 }).results[0]?.timestamp.seconds, 42);
});

t.test('skipped objects are not in any report; the cluster report sums the namespaces', async (t) => {
  const store = new VerdictStore();
  store.set('Pod/shop/p', verdictOf(identity('p'), { violations: [finding('no-privileged')] }));
  t.equal(store.set('Pod/shop/p', verdictOf({ ...identity('p'), skipped: true }, { violations: [] })), verdictOf(identity('p'), { violations: [finding('no-privileged')] }).fingerprint);
  t.same(store.namespaces(), [], 'an object no longer audited leaves the store');
  store.set('Deployment/a/d', verdictOf({ ...identity('d', 'u1', 'Deployment'), namespace: 'a' }, { violations: [finding('no-host-namespaces'), finding('image-tag-pinned', 'warn')] }));
  store.set('Deployment/b/d', verdictOf({ ...identity('d', 'u2', 'Deployment'), namespace: 'b' }, { violations: [] }));
  const c = clusterReport(store, { name: 'r', maxResults: 10, bundles: { builtin: 'rev1' }, sweep: undefined, leader: 'pod-0' });
  t.same(c.summary, { pass: 1, fail: 1, warn: 1, error: 0, skip: 0 });
  t.same(c.results, []);
  t.same(JSON.parse(c.metadata.annotations['posture.portcullis.io/bundles'] as string), { builtin: 'rev1' });
});

t.test('messages and details are bounded', async (t) => {
  const v = verdictOf(identity('p'), { violations: [{ rule: 'r', enforcement: 'deny', msg: 'x'.repeat(5000), details: { field: 'spec', nested: { a: 1 }, n: 3, long: 'y'.repeat(1000) } }] });
  t.equal(v.findings[0]?.msg.length, 1024);
  t.same(Object.keys(v.findings[0]?.details as object), ['field', 'n', 'long'], 'scalars only');
  t.equal(((v.findings[0]?.details as Record<string, string>).long as string).length, 256);
});

t.test('label selectors as the API server matches them', async (t) => {
  const labels = { team: 'shop', tier: 'web' };
  t.ok(matchesSelector(undefined, labels));
  t.ok(matchesSelector({}, labels));
  t.ok(matchesSelector({ matchLabels: { team: 'shop' } }, labels));
  t.notOk(matchesSelector({ matchLabels: { team: 'pay' } }, labels));
  t.ok(matchesSelector({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'api'] }] }, labels));
  t.notOk(matchesSelector({ matchExpressions: [{ key: 'missing', operator: 'In', values: ['x'] }] }, labels));
  t.ok(matchesSelector({ matchExpressions: [{ key: 'missing', operator: 'NotIn', values: ['x'] }] }, labels), 'NotIn holds for an absent key');
  t.notOk(matchesSelector({ matchExpressions: [{ key: 'team', operator: 'NotIn', values: ['shop'] }] }, labels));
  t.ok(matchesSelector({ matchExpressions: [{ key: 'team', operator: 'Exists' }] }, labels));
  t.ok(matchesSelector({ matchExpressions: [{ key: 'nope', operator: 'DoesNotExist' }] }, labels));
  t.notOk(matchesSelector({ matchLabels: { team: 'shop' }, matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, labels), 'all must hold');
});
