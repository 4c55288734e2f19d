import t, { type Test } from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBundle } from '../helpers/bundles.js';
import { fixture, startHarness, type Harness } from './service.js';

const base = await fixture('pod-create-deployment.json');
const dir = await mkdtemp(join(tmpdir(), 'portcullis-failclosed-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

const VIOLATIONS = 'portcullis/admission/violations';
const PATCHES = 'portcullis/admission/patches';

/** A service whose only bundle is built from this Rego (or none at all). */
async function serve(rego: string | undefined, entrypoints: string[]): Promise<Harness> {
  const path = join(dir, `bundle-${Math.random().toString(16).slice(2)}.tar.gz`);
  if (rego !== undefined) await writeFile(path, await buildBundle({ 'policy.rego': rego }, { entrypoints, revision: 'broken-1' }));
  return startHarness({ config: { policy: { bundles: [{ name: 'only', path }], readyTimeoutSeconds: rego === undefined ? 0 : 30 } } });
}

const refusedWith = async (t: Test, h: Harness, path: string, message: RegExp) => {
  const reply = await h.post(path, base);
  t.equal(reply.status, 200);
  const r = reply.json.response;
  t.equal(r.uid, base.request.uid);
  t.equal(r.allowed, false, `${path} fails closed`);
  t.match(r.status, { code: 500, reason: 'InternalError', message });
  t.match(r.status.message, /^Portcullis could not decide, so the request is refused: /);
  const event = await h.event(r.auditAnnotations['decision-id']);
  t.match(event, { decision: 'error', error: message, admission: { uid: base.request.uid, allowed: false } });
};

t.test('no bundle: both webhooks refuse, readiness fails', async (t) => {
  const h = await serve(undefined, []);
  t.teardown(() => h.close());
  await refusedWith(t, h, '/validate', /no policy bundle is active yet/);
  await refusedWith(t, h, '/mutate', /no policy bundle is active yet/);
  const ready = await h.get('/readyz');
  t.equal(ready.status, 503);
  t.equal(ready.json.checks.bundle, false);
});

t.test('a policy that answers the wrong shape is a failure, not a decision', async (t) => {
  const h = await serve('package portcullis.admission\nimport rego.v1\nviolations := "all good"\npatches := [{"op": "explode", "path": "/x"}]\n', [VIOLATIONS, PATCHES]);
  t.teardown(() => h.close());
  await refusedWith(t, h, '/validate', /malformed violations/);
  await refusedWith(t, h, '/mutate', /mutation policy: not a JSON Patch/);
});

t.test('mutation policy ops that do not apply are refused here, not by the API server', async (t) => {
  const h = await serve('package portcullis.admission\nimport rego.v1\nviolations := []\npatches := [{"op": "remove", "path": "/spec/nothing"}]\n', [VIOLATIONS, PATCHES]);
  t.teardown(() => h.close());
  await refusedWith(t, h, '/mutate', /mutation policy: operation 0 \(remove \/spec\/nothing\): member "nothing" does not exist/);
  t.equal((await h.post('/validate', base)).json.response.allowed, true);
});

t.test('a policy error during evaluation fails closed', async (t) => {
  // Two values for one complete rule: a conflict only evaluation can find.
  const h = await serve('package portcullis.admission\nimport rego.v1\nviolations := [] if input.request\nviolations := [{"rule": "x", "msg": "y", "enforcement": "deny"}] if input.request.uid\n', [VIOLATIONS]);
  t.teardown(() => h.close());
  await refusedWith(t, h, '/validate', /evaluating portcullis\/admission\/violations: /);
  const m = (await h.post('/mutate', base)).json.response;
  t.equal(m.allowed, true, 'a bundle without the optional patches entrypoint still mutates');
});

t.test('a bundle without the violations entrypoint cannot validate', async (t) => {
  const h = await serve('package portcullis.admission\nimport rego.v1\npatches := []\n', [PATCHES]);
  t.teardown(() => h.close());
  await refusedWith(t, h, '/validate', /no active bundle \(only\) provides the entrypoint portcullis\/admission\/violations/);
  t.equal((await h.get('/readyz')).status, 503);
});
