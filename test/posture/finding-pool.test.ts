// Equal findings of many objects are held once by the verdict store (what kept the posture audit's memory
// within its goal), each shared copy goes with the last verdict holding it, and sharing never mixes up what
// differs: details, first-seen times, the reports built from the verdicts.
import t from 'tap';
import { FindingPool } from '../../src/posture/finding-pool.js';
import { namespaceReport } from '../../src/posture/report.js';
import { VerdictStore } from '../../src/posture/store.js';
import { verdictOf, type Finding } from '../../src/posture/verdict.js';

const identity = (name: string, namespace = 'shop', uid = `uid-${namespace}-${name}`) => ({ uid, apiVersion: 'v1', kind: 'Pod', namespace, name });
const restricted = (container: string): Finding[] => [
  { rule: 'pod-security:runAsNonRoot', enforcement: 'warn', msg: `container "${container}" must set runAsNonRoot`, details: { field: 'spec.containers[0].securityContext.runAsNonRoot', container } },
  { rule: 'pod-security:seccompProfile_restricted', enforcement: 'warn', msg: `container "${container}" must set seccompProfile`, details: { container } },
];

t.test('the replicas of a workload share one copy of their findings, whatever their number', async (t) => {
  const store = new VerdictStore();
  const verdicts = Array.from({ length: 1000 }, (_, i) => verdictOf(identity(`web-${i}`, `team-${i % 10}`), { violations: restricted('web') }));
  for (const v of verdicts) store.set(`Pod/${v.namespace}/${v.name}`, v, 100);
  t.equal(store.distinctFindings, 1, 'one shared copy for 1,000 verdicts');
  t.ok(
    verdicts.every((v) => v.findings === verdicts[0]?.findings && v.fingerprint === verdicts[0]?.fingerprint),
    'the stored verdicts hold the same findings and fingerprint',
  );
  store.set('Pod/team-0/db', verdictOf(identity('db', 'team-0'), { violations: restricted('db') }), 100);
  t.equal(store.distinctFindings, 2, 'another container name is another finding');
  t.equal(store.tally('team-0').violations.warn, 2 * 101, 'every verdict still counts its own findings');
});

t.test('a shared copy goes with the last verdict that holds it: replaced, skipped or removed', async (t) => {
  const store = new VerdictStore();
  store.set('Pod/shop/a', verdictOf(identity('a'), { violations: restricted('web') }));
  store.set('Pod/shop/b', verdictOf(identity('b'), { violations: restricted('web') }));
  store.set('Pod/shop/c', verdictOf(identity('c'), { violations: restricted('web') }));
  t.equal(store.distinctFindings, 1);
  store.set('Pod/shop/a', verdictOf(identity('a'), { violations: [] }));
  store.set('Pod/shop/b', verdictOf({ ...identity('b'), skipped: true }, { violations: [] }));
  t.equal(store.distinctFindings, 1, 'still held by c');
  store.remove('Pod/shop/c', 'shop');
  t.equal(store.distinctFindings, 0, 'nothing is kept for verdicts that are gone');
  // Judged again and again with the same findings: counted once per verdict, not once per judgement.
  for (let i = 0; i < 5; i++) store.set('Pod/shop/d', verdictOf(identity('d'), { violations: restricted('web') }));
  store.remove('Pod/shop/d', 'shop');
  t.equal(store.distinctFindings, 0);
});

t.test('findings that differ only in details are not shared', async (t) => {
  const pool = new FindingPool();
  const one = restricted('web');
  const other = restricted('web').map((f) => ({ ...f, details: { container: 'web', field: 'spec.initContainers[0]' } }));
  const a = pool.acquire(one, 'same-fingerprint');
  const b = pool.acquire(other, 'same-fingerprint');
  t.not(a.findings, b.findings);
  t.same(b.findings[0]?.details, { container: 'web', field: 'spec.initContainers[0]' });
  t.equal(pool.size, 2);
  t.equal(pool.acquire([...one], 'same-fingerprint').findings, a.findings, 'equal content, same copy');
});

t.test('first-seen times stay per object while the findings are shared', async (t) => {
  const store = new VerdictStore();
  store.set('Pod/shop/old', verdictOf(identity('old'), { violations: restricted('web') }), 100);
  store.set('Pod/shop/new', verdictOf(identity('new'), { violations: restricted('web') }), 500);
  // The old object judged again in a later sweep: its times are kept.
  store.set('Pod/shop/old', verdictOf(identity('old'), { violations: restricted('web') }), 900);
  // It gains a finding: the new one is seen now, the others keep their times.
  store.set('Pod/shop/old', verdictOf(identity('old'), { violations: [...restricted('web'), { rule: 'no-privileged', enforcement: 'deny', msg: 'runs privileged' }] }), 1000);
  const report = namespaceReport(store, 'shop', { name: 'r', maxResults: 10 });
  t.same(
    report.results.map((r) => [r.resources[0]?.name, r.policy, r.timestamp.seconds]),
    [
      ['old', 'no-privileged', 1000],
      ['new', 'pod-security:runAsNonRoot', 500],
      ['new', 'pod-security:seccompProfile_restricted', 500],
      ['old', 'pod-security:runAsNonRoot', 100],
      ['old', 'pod-security:seccompProfile_restricted', 100],
    ],
  );
  t.same(report.results.find((r) => r.resources[0]?.name === 'new')?.properties, { enforcement: 'warn', field: 'spec.containers[0].securityContext.runAsNonRoot', container: 'web' }, 'details ride along');
});
