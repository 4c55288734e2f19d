import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { DecisionWorkers } from '../../src/admission/workers.js';
import { mergeData } from '../../src/policy/data.js';
import { fixture, podReview, reviewOf, startHarness, type Harness } from './service.js';

// The same decisions with admission.workers 2 as on the main thread: answers, audit events, reloads.
const namespaces: Array<{ name: string; labels: Record<string, string> }> = [
  { name: 'payments', labels: { 'portcullis.io/injection': 'enabled' } },
  { name: 'plain', labels: {} },
];
const inline = await startHarness({ namespaces });
const pooled = await startHarness({ namespaces, config: { admission: { workers: 2, inlineWhenIdle: false } } });
t.teardown(() => Promise.all([inline.close(), pooled.close()]));
const base = await fixture('pod-create-deployment.json');

/**
 * The answer without what differs by construction: the decision id, and the CA each instance made for itself
 * (its dev certificates), which the injected proxy's bootstrap names as the SDS server's.
 */
const answer = (json: { response?: { auditAnnotations?: Record<string, string>; patch?: string } }) => {
  const copy = structuredClone(json);
  delete copy.response?.auditAnnotations?.['decision-id'];
  if (copy.response?.patch) {
    const ops = Buffer.from(copy.response.patch, 'base64').toString('utf8').replace(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g, '<ca>');
    copy.response.patch = ops;
  }
  return copy;
};

const cases: Array<[string, string, unknown]> = [
  ['mutate', 'a Pod to inject', podReview(base, 'payments')],
  ['validate', 'a clean Pod', podReview(base, 'plain')],
  ['validate', 'a privileged Pod', podReview(base, 'plain', (pod) => (pod.spec.containers[0].securityContext = { privileged: true }))],
  ['validate', 'a Pod without its sidecar in a mesh namespace', podReview(base, 'payments')],
  ['mutate', 'a review whose object is of another kind', podReview(base, 'plain', (pod) => (pod.kind = 'Service'))],
  ['validate', 'a review without a uid', reviewOf({ operation: 'CREATE' })],
];

for (const [webhook, name, review] of cases) {
  t.test(`${webhook}: ${name}`, async (t) => {
    const [a, b] = await Promise.all([inline.post(`/${webhook}`, review), pooled.post(`/${webhook}`, review)]);
    t.equal(b.status, a.status);
    t.same(answer(b.json), answer(a.json), 'the same answer as on the main thread');
    if (!a.json.response) return;
    const [ea, eb] = await Promise.all([inline.event(a.json.response.auditAnnotations['decision-id']), pooled.event(b.json.response.auditAnnotations['decision-id'])]);
    t.same(eb.input, ea.input, 'the same input in the audit event');
    t.same(eb.result, ea.result);
    t.same(eb.admission, ea.admission);
  });
}

t.test('a body that is not JSON is a 400 and an event', async (t) => {
  const mark = pooled.events.length;
  const r = await pooled.post('/validate', undefined, { raw: '{"apiVersion": ' });
  t.equal(r.status, 400);
  t.match(r.json.message, /the body is not valid JSON/);
  const [event] = await pooled.eventsSince(mark);
  t.equal(event?.decision, 'error');
});

t.test('secrets are masked in the audit event, and the policy still sees the value', async (t) => {
  const review = podReview(base, 'plain', (pod) => pod.spec.containers[0].env.push({ name: 'DB_PASSWORD', value: 'hunter2' }));
  const r = await pooled.post('/validate', review);
  const event = await pooled.event(r.json.response.auditAnnotations['decision-id']);
  t.ok(event.masked?.some((p) => p.endsWith('/value')), 'the env value is masked');
  t.notMatch(JSON.stringify(event), /hunter2/);
});

t.test('namespace changes reach the workers', async (t) => {
  const review = podReview(base, 'plain');
  t.equal((await pooled.post('/mutate', review)).json.response.auditAnnotations['sidecar-injected'], 'false');
  await writeFile(join(pooled.dir, 'facts.yaml'), JSON.stringify({ namespaces: [{ name: 'plain', labels: { 'portcullis.io/injection': 'enabled' } }] }));
  await waitFor(async () => (await pooled.post('/mutate', review)).json.response.auditAnnotations['sidecar-injected'] === 'true');
  t.pass('injected once the namespace is labelled');
});

t.test('a new policy snapshot reaches the workers', async (t) => {
  // A namespace outside the mesh (the test above put "plain" in it).
  const review = podReview(base, 'elsewhere', (pod) => delete pod.metadata.labels.version);
  const before = await pooled.post('/validate', review);
  t.equal(before.json.response.allowed, false);
  t.match(before.json.response.status.message, /required-labels/, 'required-labels denies by default');
  // What the data overlay and the bundle manager do on a reload: a new snapshot on the main thread.
  const { config, engine } = pooled.service.ctx;
  await engine.setOverlay(mergeData(config.policy.data, { portcullis: { config: { enforcement: { 'required-labels': 'warn' } } } }));
  const after = await pooled.post('/validate', review);
  t.equal(after.json.response.allowed, true, 'the overlay applies from the next decision on');
  t.match(after.json.response.warnings, [/^required-labels:/]);
});

t.test('a worker that dies fails its decision and is replaced', async (t) => {
  const workers = workersOf(pooled, 1);
  await workers.start();
  t.teardown(() => workers.close());
  const body = () => Buffer.from(JSON.stringify(podReview(base, 'plain')));
  t.equal((await workers.decide('validate', body())).kind, 'decided');
  const thread = (workers as unknown as { threads: Array<{ worker: Worker }> }).threads[0];
  // A review that takes the worker a while (4.5 MB to parse, check and evaluate), so it is still deciding when stopped.
  const large = podReview(base, 'plain', (p) => Object.assign(p.metadata.annotations, Object.fromEntries([1, 2, 3, 4, 5].map((i) => [`example.com/pad-${i}`, 'p'.repeat(900_000)]))));
  const slow = Buffer.from(JSON.stringify(large));
  const inFlight = workers.decide('validate', slow);
  await thread?.worker.terminate();
  const lost = await inFlight;
  t.match(lost, { kind: 'undecided', why: /the decision worker exited/ }, 'its decision fails closed');
  // The body moved to the worker; its uid is still known here, so the API server gets the denial in kind.
  t.equal(lost.kind === 'undecided' ? (lost.request?.uid ?? lost.uid) : undefined, large.request.uid, 'who it was for is known');
  await waitFor(async () => workers.running() === 1);
  t.equal((await workers.decide('validate', body())).kind, 'decided', 'the replacement decides');
});

t.test('a busy worker is handed the next short review; one it stops before starting goes to its replacement', async (t) => {
  // A deadline the replacement's start (seconds under tsx on a loaded machine) stays within.
  const workers = workersOf(pooled, 1, 120_000);
  await workers.start();
  t.teardown(() => workers.close());
  const jobs = () => (workers as unknown as { threads: Array<{ jobs: unknown[]; worker: Worker }> }).threads[0];
  const review = (name: string) => podReview(base, 'plain', (p) => (p.metadata.name = name));
  const body = (name: string) => Buffer.from(JSON.stringify(review(name)));
  const first = workers.decide('validate', body('first'));
  const second = workers.decide('validate', body('second'));
  t.equal(jobs()?.jobs.length, 2, 'both sent: the second waits in the worker, not here');
  t.match(await first, { kind: 'decided', request: { name: 'first' } });
  t.match(await second, { kind: 'decided', request: { name: 'second' } });

  // Nothing waits behind a long review (its worst case is not bounded), nor does a long one wait behind another.
  const large = Buffer.from(JSON.stringify(podReview(base, 'plain', (p) => (p.metadata.annotations['example.com/pad'] = 'p'.repeat(40_000)))));
  const long = workers.decide('validate', large);
  const short = workers.decide('validate', body('after-long'));
  t.equal(jobs()?.jobs.length, 1, 'the short review waits here behind a long one');
  t.match(await long, { kind: 'decided' });
  t.match(await short, { kind: 'decided', request: { name: 'after-long' } });

  // Stopped with a review waiting in its port: that one was never started, so the replacement decides it.
  const a = workers.decide('validate', body('a'));
  const b = workers.decide('validate', body('b'));
  t.equal(jobs()?.jobs.length, 2);
  await jobs()?.worker.terminate();
  const lost = await a;
  t.ok(lost.kind === 'decided' || (lost.kind === 'undecided' && /exited/.test(lost.why)), `the one being decided is answered or fails closed (${lost.kind})`);
  t.match(await b, { kind: 'decided', request: { name: 'b' } }, 'the one waiting behind it is decided by the replacement');
});

function workersOf(h: Harness, count: number, timeoutMs = 3000): DecisionWorkers {
  return new DecisionWorkers(h.service.ctx, {
    injection: h.service.ctx.config.admission.injection,
    cluster: h.service.ctx.config.cluster,
    entrypoints: { validate: 'portcullis/admission/violations', mutate: 'portcullis/admission/patches', patchesActive: 'portcullis/admission/patches_active' },
    dropManagedFields: true,
    maxJsonDepth: 256,
    limits: h.service.ctx.config.admission.limits,
    mask: [],
    maxMemoryPages: 4096,
    recycleBytes: h.service.ctx.config.admission.workerRecycleBytes,
    lookups: false,
  }, { count, timeoutMs });
}

// Liveness, not speed: a replacement worker compiles the policies again, which takes seconds on a loaded machine.
async function waitFor(check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}
