// npm run bench:engine — policy evaluation speed of the WASM engine against `opa bench` on the same
// policy, input and query. Prints a table, then one JSON line with the figures.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readArchive } from '../src/policy/bundle/archive.js';
import { loadBundle } from '../src/policy/bundle/bundle.js';
import { DEFAULT_LIMITS } from '../src/policy/bundle/files.js';
import { PolicyEngine } from '../src/policy/engine.js';
import { BUILTIN_BUNDLE, FIXTURES, OPA, ROOT } from '../test/helpers/paths.js';

const run = promisify(execFile);
const RUNS = 7;
const ITERATIONS = 3000;

interface Case {
  name: 'admission' | 'admission-istio' | 'authz';
  entrypoint: string;
  input: unknown;
}

async function cases(): Promise<Case[]> {
  const review = JSON.parse(await readFile(join(FIXTURES, 'admission', 'pod-create-deployment.json'), 'utf8'));
  const admission = {
    request: review.request,
    context: { namespace: { name: 'payments', labels: { 'portcullis.io/injection': 'enabled' }, annotations: {} }, cluster: { name: 'standalone', trustDomain: 'cluster.local' } },
  };
  const authz = JSON.parse(await readFile(join(FIXTURES, 'authz', 'input-check-jwt-mtls.json'), 'utf8'));
  // An AuthorizationPolicy: the Istio kinds are checked against their schema and Istio's matching as well.
  const policy = JSON.parse(await readFile(join(FIXTURES, 'admission', 'authorizationpolicy-create.json'), 'utf8'));
  return [
    { name: 'admission', entrypoint: 'portcullis/admission/violations', input: admission },
    { name: 'admission-istio', entrypoint: 'portcullis/admission/violations', input: { ...admission, request: policy.request } },
    { name: 'authz', entrypoint: 'portcullis/authz/decision', input: authz },
  ];
}

/** ns/op of each run (median reported) and the p99 of single evaluations, input serialization included. */
function measure(engine: PolicyEngine, c: Case): { ns: number; p99: number; runs: number[] } {
  for (let i = 0; i < 1000; i++) engine.evaluate(c.entrypoint, c.input);
  const runs: number[] = [];
  const samples = new Float64Array(RUNS * ITERATIONS);
  let k = 0;
  for (let r = 0; r < RUNS; r++) {
    const start = process.hrtime.bigint();
    let last = start;
    for (let i = 0; i < ITERATIONS; i++) {
      engine.evaluate(c.entrypoint, c.input);
      const now = process.hrtime.bigint();
      samples[k++] = Number(now - last);
      last = now;
    }
    runs.push(Number(process.hrtime.bigint() - start) / ITERATIONS);
  }
  samples.sort();
  return { ns: median(runs), p99: samples[Math.floor(samples.length * 0.99)] as number, runs };
}

async function opaBench(c: Case, dir: string): Promise<number> {
  const input = join(dir, `${c.name}.json`);
  await writeFile(input, JSON.stringify(c.input));
  const query = `data.${c.entrypoint.replaceAll('/', '.')}`;
  const { stdout } = await run(OPA, ['bench', '-d', join(ROOT, 'policies'), '--ignore', '*_test.rego', '-i', input, query, '-f', 'json', '--count', '3'], { maxBuffer: 16 * 1024 * 1024 });
  // --count prints one JSON document per repetition.
  const results = stdout.trim().split(/\n(?=\{)/).map((s) => JSON.parse(s) as { N: number; T: number });
  return median(results.map((r) => r.T / r.N));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

async function main(): Promise<void> {
  const engine = new PolicyEngine();
  const bundle = await loadBundle('builtin', await readArchive('builtin', await readFile(BUILTIN_BUNDLE), DEFAULT_LIMITS));
  await engine.activate(bundle);
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-bench-'));
  const figures: Record<string, { ours_ns: number; opa_ns: number; ratio: number; p99_ns: number }> = {};
  try {
    console.log(`bundle ${bundle.manifest.revision}; ${RUNS} runs x ${ITERATIONS} evaluations each; Node ${process.version}`);
    for (const c of await cases()) {
      const ours = measure(engine, c);
      const opa = await opaBench(c, dir);
      figures[c.name] = { ours_ns: Math.round(ours.ns), opa_ns: Math.round(opa), ratio: Number((ours.ns / opa).toFixed(3)), p99_ns: Math.round(ours.p99) };
      console.log(
        `${c.name.padEnd(16)} ours ${fmt(ours.ns)}/op (p99 ${fmt(ours.p99)})   opa bench ${fmt(opa)}/op   ratio ours/OPA ${(ours.ns / opa).toFixed(3)}`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  console.log(JSON.stringify(figures));
}

function fmt(ns: number): string {
  return ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : ns >= 1e3 ? `${(ns / 1e3).toFixed(1)} µs` : `${Math.round(ns)} ns`;
}

await main();
