import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import t from 'tap';
import { readArchive } from '../../src/policy/bundle/archive.js';
import { DEFAULT_LIMITS } from '../../src/policy/bundle/files.js';
import { evaluateJson } from '../../src/policy/wasm/evaluate.js';
import { buildBundle } from '../helpers/bundles.js';
import { BUILTIN_BUNDLE, FIXTURES } from '../helpers/paths.js';

const wasmOf = async (name: string, archive: Buffer) => {
  const files = await readArchive(name, archive, DEFAULT_LIMITS);
  const wasm = [...files].find(([path]) => path.endsWith('policy.wasm'));
  if (!wasm) throw new Error('no policy.wasm');
  return wasm[1];
};

t.test('the fast path answers exactly what LoadedPolicy.evaluate answers', async (t) => {
  const policy = await loadPolicy(await wasmOf('builtin', await readFile(BUILTIN_BUNDLE)), { initial: 5, maximum: 4096 });
  const context = { namespace: { name: 'payments', labels: { 'portcullis.io/injection': 'enabled' } }, cluster: { name: 'test', trustDomain: 'cluster.local' } };
  for (const file of ['pod-create-deployment.json', 'peerauthentication-permissive.json']) {
    const review = JSON.parse(await readFile(join(FIXTURES, 'admission', file), 'utf8'));
    const input = { request: review.request, context };
    const fast = evaluateJson(policy, 'portcullis/admission/violations', input);
    t.same(fast, policy.evaluate(input, 'portcullis/admission/violations'), file);
    t.ok(Array.isArray((fast[0] as { result: unknown }).result) && ((fast[0] as { result: unknown[] }).result.length > 0), `${file} has violations`);
  }
});

t.test('inputs larger than the memory grow it; multi-byte text survives; no input is undefined', async (t) => {
  const archive = await buildBundle({ 'app/p.rego': 'package app\nimport rego.v1\nsize := count(input.blob)\necho := input.text\nnone if not input\n' }, { entrypoints: ['app/size', 'app/echo', 'app/none'], roots: ['app'], revision: 'r' });
  const policy = await loadPolicy(await wasmOf('app', archive), { initial: 2, maximum: 1024 });
  const blob = 'x'.repeat(3 * 1024 * 1024);
  t.same(evaluateJson(policy, 'app/size', { blob }), [{ result: blob.length }], 'a 3 MB input in a 128 KB memory');
  const text = 'zürich → 東京 🛂';
  t.same(evaluateJson(policy, 'app/echo', { text }), [{ result: text }]);
  t.same(evaluateJson(policy, 'app/size', { blob: 'abc' }), [{ result: 3 }], 'a small input after a large one');
  t.same(evaluateJson(policy, 'app/none', undefined), policy.evaluate(undefined, 'app/none'));
  t.throws(() => evaluateJson(policy, 'app/missing', {}), /entrypoint app\/missing is not valid/);
});

t.test('an input beyond the memory limit fails the evaluation instead of growing without end', async (t) => {
  const archive = await buildBundle({ 'app/p.rego': 'package app\nimport rego.v1\nsize := count(input.blob)\n' }, { entrypoints: ['app/size'], roots: ['app'], revision: 'r' });
  const policy = await loadPolicy(await wasmOf('app', archive), { initial: 2, maximum: 16 });
  t.throws(() => evaluateJson(policy, 'app/size', { blob: 'x'.repeat(2 * 1024 * 1024) }), RangeError);
  t.same(evaluateJson(policy, 'app/size', { blob: 'ok' }), [{ result: 2 }], 'the policy still serves afterwards');
});
