// Every deny row decided by OPA itself and by the WASM engine the service runs: the same violations, byte for
// byte, messages included, in the service's order. Messages are built from the objects' own values, whatever their JSON types, and
// the two engines render some values differently (numbers with a fraction, escaped characters); a rule that
// rendered one of them would answer differently depending on where it runs.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { asViolations } from '../../src/admission/violations.js';
import { readArchive } from '../../src/policy/bundle/archive.js';
import { loadBundle } from '../../src/policy/bundle/bundle.js';
import { DEFAULT_LIMITS } from '../../src/policy/bundle/files.js';
import { PolicyEngine } from '../../src/policy/engine.js';
import { loadDenyRows, reviewOf, rowNamespaces } from '../helpers/deny-rows.js';
import { BUILTIN_BUNDLE, OPA, ROOT } from '../helpers/paths.js';

const run = promisify(execFile);

/** JSON with object keys sorted: the engines may order keys differently, never values. */
const canonical = (v: unknown): string =>
  JSON.stringify(v, (_, x: unknown) =>
    x !== null && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x,
  );
const rows = await loadDenyRows();
const namespaces = new Map(rowNamespaces(rows).map((n) => [n.name, { name: n.name, labels: n.labels, annotations: {} }]));
const inputs = rows.map((row) => {
  const { request } = reviewOf(row, row.object, 'differential');
  return { request, context: { namespace: namespaces.get(row.namespace) ?? null, cluster: { name: 'test', trustDomain: 'cluster.local' } } };
});

t.test('OPA and the WASM engine give every deny row the same violations', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-rows-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  // One OPA process for all rows: the inputs travel as data, each evaluated `with input`.
  await writeFile(join(dir, 'rows.json'), JSON.stringify({ differential: { inputs } }));
  const query = '[v | some x in data.differential.inputs; v := data.portcullis.admission.violations with input as x]';
  const { stdout } = await run(OPA, ['eval', '-f', 'json', '-d', join(ROOT, 'policies'), '--ignore', '*_test.rego', '-d', join(dir, 'rows.json'), query], {
    maxBuffer: 64 * 1024 * 1024,
  });
  const byOpa = JSON.parse(stdout).result[0].expressions[0].value as unknown[];
  t.equal(byOpa.length, rows.length, 'OPA decided every row');

  const engine = new PolicyEngine();
  const snapshot = await engine.activate(await loadBundle('builtin', await readArchive('builtin', await readFile(BUILTIN_BUNDLE), DEFAULT_LIMITS)));
  let same = 0;
  rows.forEach((row, i) => {
    // In the order the service puts them (Rego leaves the order to the engine: its sort is quadratic in WebAssembly).
    const byWasm = asViolations(snapshot.evaluate('portcullis/admission/violations', inputs[i]));
    const expected = asViolations(byOpa[i]);
    if (canonical(byWasm) === canonical(expected)) same++;
    else t.same(byWasm, expected, `${row.file}: ${row.name}`);
  });
  t.equal(same, rows.length, `${same} of ${rows.length} rows decided alike`);
});
