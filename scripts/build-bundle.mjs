#!/usr/bin/env node
// Builds the built-in policy bundle: `opa build -t wasm` of policies/ with the entrypoints of DESIGN.md.
// The revision is a hash of the sources, so the same policies always give the same revision. OPA is
// given the capabilities Portcullis runs (dist/policy/builtins/capabilities.js, so `npm run build:ts`
// first; `npm run build` does both): a policy calling a builtin Portcullis does not provide fails here,
// with OPA's message and position, rather than when the bundle is loaded.
//   node scripts/build-bundle.mjs [--policies DIR] [--entrypoint PATH...] [--out build/bundle.tar.gz]
//                                 [--signing-key key.pem --signing-alg RS256 --key-id ID]
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
export const ENTRYPOINTS = ['portcullis/admission/violations', 'portcullis/admission/patches', 'portcullis/admission/patches_active', 'portcullis/authz/decision', 'portcullis/authz/policy_errors'];

const { values } = parseArgs({
  options: {
    policies: { type: 'string', default: join(root, 'policies') },
    out: { type: 'string', default: join(root, 'build', 'bundle.tar.gz') },
    'signing-key': { type: 'string' },
    'signing-alg': { type: 'string', default: 'RS256' },
    'key-id': { type: 'string' },
    revision: { type: 'string' },
    entrypoint: { type: 'string', multiple: true },
  },
});

function* files(dir) {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (!name.endsWith('_test.rego')) yield path;
  }
}

// opa runs from the repository root (see below), so every path given on our command line is made absolute first.
for (const key of ['policies', 'out', 'signing-key']) if (values[key]) values[key] = resolve(values[key]);

const hash = createHash('sha256');
for (const file of files(values.policies)) hash.update(relative(values.policies, file)).update('\0').update(readFileSync(file));
const revision = values.revision ?? `sha256-${hash.digest('hex').slice(0, 16)}`;

execFileSync('bash', [join(root, 'scripts', 'tools.sh'), 'opa'], { stdio: 'inherit' });
const opa = join(root, '.tools', 'bin', 'opa');
mkdirSync(dirname(values.out), { recursive: true });

let capabilities;
try {
  ({ portcullisCapabilities: capabilities } = await import(join(root, 'dist', 'policy', 'builtins', 'capabilities.js')));
} catch (err) {
  console.error(`build-bundle: the compiled program is needed to know which builtins Portcullis runs: run \`npm run build:ts\` first (\`npm run build\` does both): ${err.message}`);
  process.exit(1);
}
const capabilitiesFile = join(dirname(values.out), '.portcullis-capabilities.json');
writeFileSync(capabilitiesFile, JSON.stringify(capabilities(JSON.parse(execFileSync(opa, ['capabilities', '--current'], { maxBuffer: 64 * 1024 * 1024 }).toString()))));

const args = ['build', '-b', '-t', 'wasm', '--ignore', '*_test.rego', '-r', revision, '-o', values.out, '--capabilities', capabilitiesFile];
for (const e of values.entrypoint ?? ENTRYPOINTS) args.push('-e', e);
if (values['signing-key']) {
  args.push('--signing-key', values['signing-key'], '--signing-alg', values['signing-alg']);
  if (values['key-id']) {
    // OPA takes the key id from a claims file; it lands in the JWS payload as `keyid`.
    const claims = join(dirname(values.out), '.claims.json');
    writeFileSync(claims, JSON.stringify({ keyid: values['key-id'] }));
    args.push('--claims-file', claims);
  }
}
// A relative path keeps the machine's directories out of the module paths stored in the bundle.
args.push(relative(root, values.policies) || '.');
execFileSync(opa, args, { stdio: 'inherit', cwd: root });
console.error(`bundle: ${relative(process.cwd(), values.out)} revision ${revision}`);
