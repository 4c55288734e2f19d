// Leader election on a real Lease: one leader among candidates, hand-over when the leader stops
// (released at once) or is cut off (taken after leaseDuration), and the Lease's bookkeeping.
import { CoordinationV1Api } from '@kubernetes/client-node';
import t, { type Test } from 'tap';
import { LeaderElector } from '../../src/kube/leader.js';
import { apiProxy } from './proxy.js';
import { cluster, memoryLog, testNamespace, until } from './support.js';

t.setTimeout(180_000);
const c = await cluster();
const leases = c.kc.makeApiClient(CoordinationV1Api);

const candidate = (t: Test, namespace: string, identity: string, leaseDurationMs = 3000, kc = c.kc) => {
  const elector = new LeaderElector({ kc, namespace, name: 'leader', identity, leaseDurationMs, renewDeadlineMs: 2000, retryPeriodMs: 300, log: memoryLog() });
  elector.start();
  t.teardown(() => elector.stop());
  return elector;
};

t.test('one leader; the others follow; hand-over at once when the leader stops', async (t) => {
  const ns = await testNamespace(t, c, 'leader');
  const electors = ['a', 'b', 'c'].map((id) => candidate(t, ns, id));
  const first = await until('a leader', () => electors.find((e) => e.isLeader()));
  await new Promise((r) => setTimeout(r, 1500));
  t.equal(electors.filter((e) => e.isLeader()).length, 1, 'exactly one leader after several rounds');
  const seen = new Set(electors.map((e) => e.leader()));
  t.equal(seen.size, 1, 'every candidate sees the same holder');

  const lease = await leases.readNamespacedLease({ name: 'leader', namespace: ns });
  const holder = lease.spec?.holderIdentity;
  t.ok(holder && ['a', 'b', 'c'].includes(holder), 'holderIdentity names the leader');
  t.equal(lease.spec?.leaseDurationSeconds, 3);
  t.ok(lease.spec?.acquireTime && lease.spec?.renewTime, 'acquireTime and renewTime set (MicroTime accepted)');
  const transitions = lease.spec?.leaseTransitions ?? 0;

  const stoppedAt = Date.now();
  await first.stop();
  t.notOk(first.isLeader(), 'a stopped leader is no longer leader');
  const next = await until('a new leader', () => electors.find((e) => e !== first && e.isLeader()), 10_000, 50);
  const took = Date.now() - stoppedAt;
  t.ok(took < 3000, `taken over in ${took}ms, before the 3s lease would have expired (released on stop)`);
  const after = await leases.readNamespacedLease({ name: 'leader', namespace: ns });
  t.not(after.spec?.holderIdentity, holder, 'the Lease names the new leader');
  t.equal(after.spec?.leaseTransitions, transitions + 1, 'leaseTransitions counts the hand-over');
  t.ok(next.isLeader());
});

t.test('a leader cut off from the API server steps down; another takes over once the Lease expires', async (t) => {
  const ns = await testNamespace(t, c, 'leader-cut');
  const proxy = await apiProxy(c.kc);
  t.teardown(() => proxy.close());
  const a = candidate(t, ns, 'a', 2000, proxy.kc);
  await until('a leads', () => a.isLeader());
  const b = candidate(t, ns, 'b', 2000);
  await new Promise((r) => setTimeout(r, 1000));
  t.notOk(b.isLeader(), 'b waits while a renews');
  // As for a leader whose node is partitioned: it can neither renew nor release.
  await proxy.down();
  const cutAt = Date.now();
  await until('a steps down', () => !a.isLeader(), 10_000, 50);
  t.ok(Date.now() - cutAt >= 1500, 'a stepped down after its renew deadline, not at the first failure');
  await until('b takes over', () => b.isLeader(), 15_000, 50);
  const took = Date.now() - cutAt;
  t.ok(took >= 1500, `b waited for the lease to expire (${took}ms)`);
  t.ok(took < 6000, `and took over soon after (${took}ms)`);
  await proxy.up();
  await new Promise((r) => setTimeout(r, 1000));
  t.notOk(a.isLeader(), 'a, back, follows the new leader');
  t.equal(a.leader(), 'b');
});

t.test('two candidates racing for a fresh Lease: one wins, the other sees the conflict', async (t) => {
  const ns = await testNamespace(t, c, 'leader-race');
  const electors = Array.from({ length: 4 }, (_, i) => candidate(t, ns, `r${i}`));
  await until('a leader', () => electors.some((e) => e.isLeader()));
  await new Promise((r) => setTimeout(r, 1000));
  t.equal(electors.filter((e) => e.isLeader()).length, 1);
});
