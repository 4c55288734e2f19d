import t from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBundle } from '../helpers/bundles.js';
import { fixture, startHarness } from './service.js';

// Warnings become HTTP Warning headers at the API server, which drops a whole warning with any control
// character (Go's unicode.IsControl) and, past 4096 runes in all, cuts each to 256 runes.
const base = await fixture('pod-create-deployment.json');
const dir = await mkdtemp(join(tmpdir(), 'portcullis-warnings-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

const violations = [
  { rule: 'c1', msg: 'next\u0085line\u009bcsi\u0007bell\u0000nul', enforcement: 'warn' },
  { rule: 'long', msg: 'x'.repeat(400), enforcement: 'warn' },
  { rule: 'wide', msg: '\u{1F6AB}'.repeat(300), enforcement: 'warn' },
  { rule: 'short', msg: 'fits é as it is', enforcement: 'warn' },
  { rule: 'deny-c1', msg: 'a\u0085b', enforcement: 'deny' },
];
const path = join(dir, 'bundle.tar.gz');
await writeFile(
  path,
  await buildBundle(
    { 'policy.rego': 'package portcullis.admission\nimport rego.v1\nviolations := data.test.violations\n', 'data.json': JSON.stringify({ test: { violations } }) },
    { entrypoints: ['portcullis/admission/violations'] },
  ),
);
const h = await startHarness({ config: { policy: { bundles: [{ name: 'only', path }] } } });
t.teardown(() => h.close());
const r = (await h.post('/validate', base)).json.response;
const runes = (s: string) => Array.from(s).length;
const warning = (rule: string): string => r.warnings.find((w: string) => w.startsWith(`${rule}: `));

t.test('warnings come in rule order, whatever order the policy listed them in', async (t) => {
  t.same(
    r.warnings.map((w: string) => w.split(':')[0]),
    ['c1', 'long', 'short', 'wide'],
  );
});

t.test('control characters, C1 included, become spaces', async (t) => {
  t.equal(warning('c1'), 'c1: next line csi bell nul');
  for (const w of r.warnings) t.notMatch(w, /[\u0000-\u001f\u007f-\u009f]/);
  t.match(r.status.message, /deny-c1: a b$/, 'denials too');
  t.equal(warning('short'), 'short: fits é as it is', 'the rest is left alone');
});

t.test('a long warning is cut at 256 runes with an ellipsis, before the API server cuts it anywhere', async (t) => {
  t.equal(runes(warning('long')), 256);
  t.equal(warning('long'), `long: ${'x'.repeat(256 - 'long: '.length - 1)}…`);
  t.equal(runes(warning('wide')), 256, 'runes, not UTF-16 units');
  t.match(warning('wide'), /^wide: (\u{1F6AB})+…$/u, 'no surrogate pair split');
});
