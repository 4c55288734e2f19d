import t from 'tap';
import { request as httpRequest } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DecisionWorkers } from '../../src/admission/workers.js';
import { findRequestUid } from '../../src/admission/request-uid.js';
import { buildBundle } from '../helpers/bundles.js';
import { fixture, podReview, startHarness, type Reply } from './service.js';

// A decision that runs past admission.timeoutMs is answered as refused, its worker stopped and replaced,
// and nothing else waits for it: small reviews are decided on the main thread meanwhile, ext_authz checks
// answered. The policy spins for as long as the review asks (an annotation), so the runaway is certain.
const TIMEOUT_MS = 2000;
// Decision workers start in well under a second compiled; under tsx with coverage on a busy machine, in up to ~20 s each.
t.setTimeout(600_000);
const dir = await mkdtemp(join(tmpdir(), 'portcullis-deadline-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const spinning = `package portcullis.admission
import rego.v1
default violations := []
violations := [{"rule": "slow", "msg": "spun", "enforcement": "deny"}] if {
	r := numbers.range(1, to_number(input.request.object.metadata.annotations.spin))
	# Compares values that exist already: n² steps that allocate nothing, so it spins rather than runs out of memory.
	count([1 | some i in r; some j in r; i == j; i < 0]) == 0
}
`;
const path = join(dir, 'bundle.tar.gz');
await writeFile(path, await buildBundle({ 'policy.rego': spinning }, { entrypoints: ['portcullis/admission/violations'] }));
const h = await startHarness({
  config: {
    policy: { bundles: [{ name: 'spin', path }] },
    admission: { timeoutMs: TIMEOUT_MS, workers: 1 },
    authz: { enabled: true, grpc: { enabled: false }, http: { host: '127.0.0.1', port: 0 } },
  },
});
t.teardown(() => h.close());
await h.ready();
const base = await fixture('pod-create-deployment.json');

/** A review too large to be decided on the main thread (a 40 KB annotation), spinning n² steps when n is given. */
const large = (spin?: number) =>
  podReview(base, 'plain', (pod) => {
    pod.metadata.annotations['example.com/padding'] = 'p'.repeat(40_000);
    if (spin) pod.metadata.annotations.spin = String(spin);
  });
const RUNAWAY = 30_000;

/** Workers start with the first review that needs one: wait until one decides (under tsx on a busy machine that takes seconds). */
async function untilWorkerDecides(): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const r = await h.post('/validate', large());
    if (r.json?.response?.allowed === true) return;
    if (Date.now() > deadline) throw new Error(`no worker decided: ${r.json?.response?.status?.message ?? r.body.slice(0, 300)}`);
  }
}

const authzCheck = () =>
  new Promise<number>((resolve, reject) => {
    const door = h.service.listeners.find((l) => l.name === 'authz-http');
    const req = httpRequest({ host: '127.0.0.1', port: door?.port, path: '/anything', method: 'GET' }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });

t.test('a runaway decision is refused at the deadline while other reviews and checks go on', async (t) => {
  await untilWorkerDecides();
  const mark = h.mark();
  let runawayDone = false;
  const review = large(RUNAWAY);
  const runaway = h.post('/validate', review).then((r) => ((runawayDone = true), r));
  // Decided on the main thread, and a check on the ext_authz door, while the worker spins.
  await new Promise((r) => setTimeout(r, 200));
  const small = await h.post('/validate', podReview(base, 'plain'));
  t.equal(small.json.response.allowed, true, 'a small review is decided meanwhile');
  t.ok((await authzCheck()) > 0, 'an ext_authz check is answered meanwhile');
  t.notOk(runawayDone, 'both before the runaway was answered');

  const answer: Reply = await runaway;
  t.equal(answer.status, 200);
  t.equal(answer.json.response.uid, review.request.uid, 'answered in kind, with its uid');
  t.equal(answer.json.response.allowed, false, 'fails closed');
  t.match(answer.json.response.status, { code: 500, message: new RegExp(`took longer than admission\\.timeoutMs \\(${TIMEOUT_MS} ms\\), so it was stopped`) });
  const events = await h.eventsSince(mark, 3);
  const event = events.find((e) => e.admission?.uid === review.request.uid);
  t.match(event, { decision: 'error', error: /took longer than admission\.timeoutMs/, admission: { allowed: false, kind: 'Pod', namespace: 'plain' } });

  await untilWorkerDecides();
  t.pass('a new worker took the stopped one\'s place');
});

t.test('a review waiting behind a runaway for a worker is refused at its own deadline, in kind', async (t) => {
  await untilWorkerDecides();
  const first = large(RUNAWAY);
  const second = large();
  const [a, b] = await Promise.all([h.post('/validate', first), new Promise((r) => setTimeout(r, 200)).then(() => h.post('/validate', second))]);
  t.match(a.json.response, { uid: first.request.uid, allowed: false, status: { message: /took longer/ } });
  t.match(b.json.response, { uid: second.request.uid, allowed: false, status: { message: /no decision worker was free within admission\.timeoutMs/ } }, 'its uid read from the body it still had');
});

t.test('a short review handed to a worker behind a short runaway is refused at its own deadline as not started, in kind', async (t) => {
  const config = h.service.ctx.config;
  const workers = new DecisionWorkers(h.service.ctx, {
    injection: config.admission.injection,
    cluster: config.cluster,
    entrypoints: { validate: 'portcullis/admission/violations', mutate: 'portcullis/admission/patches', patchesActive: 'portcullis/admission/patches_active' },
    dropManagedFields: true,
    maxJsonDepth: 256,
    limits: config.admission.limits,
    mask: [],
    maxMemoryPages: 4096,
    recycleBytes: config.admission.workerRecycleBytes,
    lookups: false,
  }, { count: 1, timeoutMs: TIMEOUT_MS });
  await workers.start();
  t.teardown(() => workers.close());
  const runaway = podReview(base, 'plain', (pod) => (pod.metadata.annotations.spin = String(RUNAWAY)));
  const behind = podReview(base, 'plain');
  const a = workers.decide('validate', Buffer.from(JSON.stringify(runaway)));
  const b = workers.decide('validate', Buffer.from(JSON.stringify(behind)));
  t.equal((workers as unknown as { threads: Array<{ jobs: unknown[] }> }).threads[0]?.jobs.length, 2, 'the second was handed to the worker behind the first');
  const [ra, rb] = await Promise.all([a, b]);
  t.match(ra, { kind: 'undecided', why: /took longer than admission\.timeoutMs/, request: { uid: runaway.request.uid } });
  t.match(rb, { kind: 'undecided', why: /no decision worker was free within admission\.timeoutMs/ }, 'not reported as the runaway');
  t.equal(rb.kind === 'undecided' && rb.body ? findRequestUid(rb.body) : undefined, behind.request.uid, 'its body is still here: answered in kind');
});
