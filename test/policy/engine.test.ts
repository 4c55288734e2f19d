import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { readArchive } from '../../src/policy/bundle/archive.js';
import { loadBundle } from '../../src/policy/bundle/bundle.js';
import { BundleError } from '../../src/policy/bundle/errors.js';
import { DEFAULT_LIMITS } from '../../src/policy/bundle/files.js';
import { EvaluationError, PolicyEngine } from '../../src/policy/engine.js';
import { buildBundle } from '../helpers/bundles.js';
import { BUILTIN_BUNDLE, FIXTURES } from '../helpers/paths.js';

const load = async (name: string, archive: Buffer) => loadBundle(name, await readArchive(name, archive, DEFAULT_LIMITS));

const VERSIONED = (version: string) => ({
  'app/policy.rego': `package app\nimport rego.v1\nversion := "${version}"\nlimit := data.app.settings.limit\ngreeting := sprintf("hello %s", [input.name])\n`,
  'app/settings/data.json': '{"limit": 3}',
});

t.test('the built-in bundle evaluates the admission entrypoint on the fixture', async (t) => {
  const engine = new PolicyEngine();
  const bundle = await load('builtin', await readFile(BUILTIN_BUNDLE));
  t.match(bundle.manifest.revision, /^sha256-[0-9a-f]{16}$/);
  t.same(bundle.manifest.roots, ['portcullis']);
  const snapshot = await engine.activate(bundle);
  t.ok(snapshot.has('portcullis/admission/violations'));
  t.ok(snapshot.has('portcullis/authz/decision'));
  const review = JSON.parse(await readFile(join(FIXTURES, 'admission', 'pod-create-deployment.json'), 'utf8'));
  const violations = engine.evaluate('portcullis/admission/violations', { request: review.request, context: { namespace: null, cluster: { name: 'test', trustDomain: 'cluster.local' } } });
  t.ok(Array.isArray(violations), 'violations is an array');
  t.equal(snapshot.revisions.builtin, bundle.manifest.revision);
});

t.test('evaluation returns typed values, undefined for undefined rules, and data from data.json', async (t) => {
  const engine = new PolicyEngine();
  const archive = await buildBundle(VERSIONED('v1'), { entrypoints: ['app/version', 'app/limit', 'app/greeting'], roots: ['app'], revision: 'r1' });
  await engine.activate(await load('app', archive));
  t.equal(engine.evaluate('app/version', {}), 'v1');
  t.equal(engine.evaluate('app/limit', {}), 3);
  t.equal(engine.evaluate('app/greeting', { name: 'mesh' }), 'hello mesh', 'sprintf works through the npm builtins');
  t.equal(engine.evaluate('app/greeting', {}), undefined, 'undefined input field leaves the rule undefined');
  t.throws(() => engine.evaluate('app/missing', {}), EvaluationError);
});

t.test('the data overlay overrides bundle data without rebuilding', async (t) => {
  const engine = new PolicyEngine();
  await engine.activate(await load('app', await buildBundle(VERSIONED('v1'), { entrypoints: ['app/limit'], roots: ['app'] })));
  t.equal(engine.evaluate('app/limit', {}), 3);
  await engine.setOverlay({ app: { settings: { limit: 10 } } });
  t.equal(engine.evaluate('app/limit', {}), 10);
  await engine.setOverlay({});
  t.equal(engine.evaluate('app/limit', {}), 3, 'clearing the overlay restores bundle data');
});

t.test('bundles side by side under distinct roots; overlapping roots refused', async (t) => {
  const engine = new PolicyEngine();
  await engine.activate(await load('a', await buildBundle({ 'a/p.rego': 'package a\nx := data.b.y\n' }, { entrypoints: ['a/x'], roots: ['a'] })));
  await engine.activate(await load('b', await buildBundle({ 'b/p.rego': 'package b\ny := 42\n', 'b/data.json': '{"z": 1}' }, { entrypoints: ['b/y'], roots: ['b'] })));
  t.equal(engine.evaluate('b/y', {}), 42);
  t.same(engine.current().revisions, { a: 'test', b: 'test' });
  const overlapping = await load('c', await buildBundle({ 'b/q.rego': 'package b.q\nz := 1\n' }, { entrypoints: ['b/q/z'], roots: ['b/q'] }));
  await t.rejects(engine.activate(overlapping), BundleError);
  t.same(engine.current().entrypoints.sort(), ['a/x', 'b/y'], 'failed activation leaves the engine as it was');
  await engine.deactivate('a');
  t.same(engine.current().entrypoints, ['b/y']);
});

t.test('hot swap: a held snapshot finishes on the old revision, new evaluations use the new one', async (t) => {
  const engine = new PolicyEngine();
  const v1 = await load('app', await buildBundle(VERSIONED('v1'), { entrypoints: ['app/version'], roots: ['app'], revision: 'r1' }));
  const v2 = await load('app', await buildBundle(VERSIONED('v2'), { entrypoints: ['app/version'], roots: ['app'], revision: 'r2' }));
  await engine.activate(v1);
  const held = engine.current();

  // Many concurrent "requests" that each gather facts asynchronously, then evaluate twice on their snapshot.
  let mixed = 0;
  let sawV1 = 0;
  let sawV2 = 0;
  const requests = Array.from({ length: 500 }, async (_, i) => {
    const snap = engine.current();
    await new Promise((r) => setTimeout(r, i % 7));
    const first = snap.evaluate('app/version', {});
    await new Promise((r) => setImmediate(r));
    const second = snap.evaluate('app/version', {});
    if (first !== second) mixed++;
    if (first === 'v1') sawV1++;
    else sawV2++;
  });
  const swaps = (async () => {
    for (let i = 0; i < 20; i++) {
      await engine.activate(i % 2 === 0 ? v2 : v1);
      await new Promise((r) => setTimeout(r, 1));
    }
  })();
  await Promise.all([...requests, swaps]);
  t.equal(mixed, 0, 'no request saw two revisions');
  t.ok(sawV1 > 0 && sawV2 >= 0, `requests saw v1 ${sawV1} times and v2 ${sawV2} times`);
  t.equal(held.evaluate('app/version', {}), 'v1', 'an old snapshot keeps evaluating its revision');
  await engine.activate(v2);
  t.equal(engine.evaluate('app/version', {}), 'v2');
  t.equal(engine.current().revisions.app, 'r2');
});

t.test('WASM that fails to instantiate or lacks the entrypoint is refused and the last good bundle stays', async (t) => {
  const engine = new PolicyEngine();
  const good = await load('app', await buildBundle(VERSIONED('v1'), { entrypoints: ['app/version'], roots: ['app'] }));
  await engine.activate(good);

  // A valid WebAssembly module that is not an OPA policy: compiles, but cannot be instantiated as one.
  const notOpa = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  const bad = { ...good, modules: new Map([['policy.wasm', await WebAssembly.compile(notOpa)]]) };
  await t.rejects(engine.activate(bad), { name: 'BundleError', message: /failed to instantiate/ });

  const wrongEntry = { ...good, manifest: { ...good.manifest, wasm: [{ entrypoint: 'app/nope', module: 'policy.wasm' }] } };
  await t.rejects(engine.activate(wrongEntry), { message: /does not export entrypoint app\/nope/ });
  t.equal(engine.evaluate('app/version', {}), 'v1');
});

t.test('a policy error during evaluation is an EvaluationError, not a crash', async (t) => {
  const engine = new PolicyEngine();
  const rego = 'package app\nimport rego.v1\nx := input.a\nx := input.b\n';
  await engine.activate(await load('app', await buildBundle({ 'app/p.rego': rego }, { entrypoints: ['app/x'], roots: ['app'] })));
  t.equal(engine.evaluate('app/x', { a: 1, b: 1 }), 1);
  t.throws(() => engine.evaluate('app/x', { a: 1, b: 2 }), EvaluationError, 'conflicting values are reported');
  t.equal(engine.evaluate('app/x', { a: 2, b: 2 }), 2, 'the policy still works after an error');
});

t.test('memory is bounded: a huge input fails the evaluation instead of the process', async (t) => {
  const engine = new PolicyEngine({ maxMemoryPages: 64 });
  await engine.activate(await load('app', await buildBundle(VERSIONED('v1'), { entrypoints: ['app/greeting'], roots: ['app'] })));
  t.throws(() => engine.evaluate('app/greeting', { name: 'x'.repeat(8 * 1024 * 1024) }), EvaluationError);
  t.equal(engine.evaluate('app/greeting', { name: 'ok' }), 'hello ok');
});

t.test('data checks refuse operator data or bundles whose data the policy reports as wrong', async (t) => {
  const engine = new PolicyEngine({ dataChecks: ['app/errors'] });
  const rego = 'package app\nimport rego.v1\nerrors contains "mode must be on or off" if not data.app.settings.mode in {"on", "off"}\nmode := data.app.settings.mode\n';
  const sources = (mode: string) => ({ 'app/p.rego': rego, 'app/settings/data.json': JSON.stringify({ mode }) });
  await engine.activate(await load('app', await buildBundle(sources('on'), { entrypoints: ['app/mode', 'app/errors'], roots: ['app'], revision: 'good' })));
  await t.rejects(engine.setOverlay({ app: { settings: { mode: 'sometimes' } } }), { name: 'DataError', message: /policy data refused: mode must be on or off/ });
  t.equal(engine.evaluate('app/mode', {}), 'on', 'the previous data keeps serving');
  await engine.setOverlay({ app: { settings: { mode: 'off' } } });
  t.equal(engine.evaluate('app/mode', {}), 'off');
  await engine.setOverlay({});
  const bad = await load('app', await buildBundle(sources('maybe'), { entrypoints: ['app/mode', 'app/errors'], roots: ['app'], revision: 'bad' }));
  await t.rejects(engine.activate(bad), { name: 'BundleError', message: /bundle app: its data is refused: mode must be on or off/ });
  t.equal(engine.current().revisions.app, 'good');
});
