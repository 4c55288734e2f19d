// Which builtins a policy can call under Portcullis, checked against the pinned OPA: the list of builtins
// compiled into the WebAssembly, the refusal of a bundle that calls one Portcullis does not provide (at
// load time, naming it, the last good bundle kept), and the same refusal at build time.
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { readArchive } from '../../src/policy/bundle/archive.js';
import { loadBundle } from '../../src/policy/bundle/bundle.js';
import { DEFAULT_LIMITS } from '../../src/policy/bundle/files.js';
import { portcullisCapabilities, providedBuiltins, type Capabilities } from '../../src/policy/builtins/capabilities.js';
import { hostBuiltins, NOT_PROVIDED } from '../../src/policy/builtins/host.js';
import { PolicyEngine } from '../../src/policy/engine.js';
import { WASM_NATIVE_BUILTINS } from '../../src/policy/wasm/native-builtins.js';
import { buildBundle } from '../helpers/bundles.js';
import { OPA, ROOT } from '../helpers/paths.js';

const run = promisify(execFile);
const dir = await mkdtemp(join(tmpdir(), 'portcullis-provided-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
interface Declared {
  name: string;
  infix?: string;
  deprecated?: boolean;
  decl: { args?: Type[]; variadic?: Type };
}
const opaCapabilities = JSON.parse((await run(OPA, ['capabilities', '--current'], { maxBuffer: 32 * 1024 * 1024 })).stdout) as Omit<Capabilities, 'builtins'> & { builtins: Declared[] };

interface Type {
  type: string;
  of?: Type[] | Type;
}

/** A value of the declared type, for a call that type-checks. */
function sample(type: Type): string {
  switch (type.type) {
    case 'string':
      return '""';
    case 'number':
      return '0';
    case 'boolean':
      return 'false';
    case 'null':
      return 'null';
    case 'array':
      return '[]';
    case 'object':
      return '{}';
    case 'set':
      return 'set()';
    default:
      return Array.isArray(type.of) && type.of[0] ? sample(type.of[0]) : 'null';
  }
}

// Calls the planner rewrites before any WebAssembly exists, or that only `opa test` knows.
const NOT_CALLABLE = new Set(['print', 'internal.print', 'internal.test_case', 'rego.metadata.chain', 'rego.metadata.rule', 'eq', 'assign', 'internal.member_2', 'internal.member_3', 'internal.template_string']);

async function requiredBuiltins(wasm: Buffer): Promise<string[]> {
  const module = new WebAssembly.Module(wasm);
  const memory = new WebAssembly.Memory({ initial: 10 });
  // Only the module's list of builtins is read: none of its imports is ever called.
  const neverCalled = () => 0;
  const instance = new WebAssembly.Instance(module, { env: { memory, opa_abort: neverCalled, opa_println: neverCalled, opa_builtin0: neverCalled, opa_builtin1: neverCalled, opa_builtin2: neverCalled, opa_builtin3: neverCalled, opa_builtin4: neverCalled } });
  const ex = instance.exports as { builtins(): number; opa_json_dump(v: number): number };
  const at = ex.opa_json_dump(ex.builtins());
  const bytes = new Uint8Array(memory.buffer);
  return Object.keys(JSON.parse(Buffer.from(bytes.subarray(at, bytes.indexOf(0, at))).toString()) as object).sort();
}

t.test('the WebAssembly asks its host for exactly the builtins not in WASM_NATIVE_BUILTINS', async (t) => {
  // Deprecated builtins (cast_*, all, any, ...) do not compile in Rego v1.
  const callable = opaCapabilities.builtins.filter((b) => !b.infix && !b.deprecated && !NOT_CALLABLE.has(b.name) && !b.name.startsWith('internal.') && b.decl.args !== undefined);
  const rules = callable.map((b, i) => `r${i} if {\n\t_ := ${b.name}(${(b.decl.args ?? []).map(sample).join(', ')})\n}`);
  const archive = await buildBundle({ 'all.rego': `package all\n\nimport rego.v1\n\n${rules.join('\n\n')}\n` }, { entrypoints: callable.map((_, i) => `all/r${i}`), roots: ['all'] });
  const files = await readArchive('all', archive, DEFAULT_LIMITS);
  const required = await requiredBuiltins(files.get('policy.wasm') as Buffer);
  const expected = callable.map((b) => b.name).filter((n) => !WASM_NATIVE_BUILTINS.has(n)).sort();
  t.strictSame(required, expected, `${callable.length} builtins called, ${required.length} of them left to the host`);
  const provided = hostBuiltins({}, { all: true });
  const missing = required.filter((n) => !provided.has(n));
  t.comment(`host builtins provided: ${required.length - missing.length} of ${required.length}; not provided: ${missing.join(', ')}`);
  for (const n of WASM_NATIVE_BUILTINS) t.ok(opaCapabilities.builtins.some((b) => b.name === n), `${n} is an OPA builtin`);
});

const GRAPHQL = 'package app\n\nimport rego.v1\n\nok if graphql.is_valid(input.q, input.s)\n';
const HTTP = 'package app\n\nimport rego.v1\n\nstatus := http.send({"method": "get", "url": input.url}).status_code\n';

t.test('a bundle calling a builtin Portcullis does not provide is refused when it is loaded, naming it', async (t) => {
  const engine = new PolicyEngine();
  await engine.activate(await loadBundle('app', await readArchive('app', await buildBundle({ 'app.rego': 'package app\n\nimport rego.v1\n\nok := true\n' }, { entrypoints: ['app/ok'], roots: ['app'] }), DEFAULT_LIMITS)));
  const bad = await loadBundle('app', await readArchive('app', await buildBundle({ 'app.rego': GRAPHQL }, { entrypoints: ['app/ok'], roots: ['app'] }), DEFAULT_LIMITS));
  await t.rejects(engine.activate(bad), { name: 'BundleError', message: /policy\.wasm cannot run: it calls builtins that Portcullis does not provide: graphql\.is_valid/ });
  t.equal(engine.evaluate('app/ok', {}), true, 'the previous bundle keeps serving');

  const http = await loadBundle('app', await readArchive('app', await buildBundle({ 'app.rego': HTTP }, { entrypoints: ['app/status'], roots: ['app'] }), DEFAULT_LIMITS));
  await t.rejects(engine.activate(http), { message: /http\.send \(enable it with policy\.network/ }, 'the network builtins only when allowed');
  const allowed = new PolicyEngine({ host: { network: { allowedHosts: ['127.0.0.1'], timeoutMs: 1000, cacheSeconds: 0, maxResponseBytes: 4096 } } });
  await allowed.activate(http);
  t.ok(allowed.current().has('app/status'), 'and loaded once policy.network allows them');
  t.ok(NOT_PROVIDED['http.send']);
});

t.test('the capabilities Portcullis runs make OPA refuse such a policy at build time', async (t) => {
  const provided = providedBuiltins();
  const capabilities = portcullisCapabilities(opaCapabilities);
  t.ok(capabilities.builtins.every((b) => provided.has(b.name)));
  t.ok(capabilities.builtins.some((b) => b.name === 'io.jwt.decode_verify') && capabilities.builtins.some((b) => b.name === 'http.send'));
  t.notOk(capabilities.builtins.some((b) => b.name === 'graphql.is_valid'));

  const policies = join(dir, 'policies');
  await mkdir(join(policies, 'app'), { recursive: true });
  await writeFile(join(policies, '.manifest'), JSON.stringify({ roots: ['app'] }));
  await writeFile(join(policies, 'app', 'app.rego'), GRAPHQL);
  const build = () => run('node', [join(ROOT, 'scripts', 'build-bundle.mjs'), '--policies', policies, '--entrypoint', 'app/ok', '--out', join(dir, 'out.tar.gz')]);
  const failed = await build().then(
    () => undefined,
    (err: { stdout: string; stderr: string }) => `${err.stdout}${err.stderr}`,
  );
  t.match(failed, /undefined function graphql\.is_valid/, 'npm run build:policies names it, with its position');
  await writeFile(join(policies, 'app', 'app.rego'), 'package app\n\nimport rego.v1\n\nok if io.jwt.decode_verify(input.t, {"secret": "s"})[0]\n');
  await build();
  t.ok((await readFile(join(dir, 'out.tar.gz'))).length > 0, 'and builds what Portcullis runs');
});
