#!/usr/bin/env node
// Writes policies/portcullis/podsecurity/table/data.json: the Pod Security checks in force per level and
// version, computed by registry.rego (data.portcullis.podsecurity.table_of_registry) and looked up by the
// policy at evaluation time. Run after changing the registry; `opa test` fails while the file is stale.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
execFileSync('bash', [join(root, 'scripts', 'tools.sh'), 'opa'], { stdio: 'inherit' });
const out = execFileSync(join(root, '.tools', 'bin', 'opa'), ['eval', '-f', 'raw', '-d', 'policies', '--ignore', '*_test.rego', 'data.portcullis.podsecurity.table_of_registry'], {
  cwd: root,
  maxBuffer: 16 * 1024 * 1024,
});
const table = JSON.parse(out.toString());
const file = join(root, 'policies', 'portcullis', 'podsecurity', 'table', 'data.json');
// One line per level and version keeps a change to the registry a readable diff.
const lines = [`{"breakpoints": ${JSON.stringify(table.breakpoints)},`, ' "inForce": {'];
const levels = Object.entries(table.inForce);
levels.forEach(([level, byVersion], i) => {
  lines.push(`  ${JSON.stringify(level)}: {`);
  const versions = Object.entries(byVersion).sort(([a], [b]) => Number(a) - Number(b));
  versions.forEach(([v, pairs], j) => lines.push(`   ${JSON.stringify(v)}: ${JSON.stringify(pairs)}${j < versions.length - 1 ? ',' : ''}`));
  lines.push(`  }${i < levels.length - 1 ? ',' : ''}`);
});
lines.push(' },', ` "reasons": ${JSON.stringify(table.reasons)}`, '}', '');
writeFileSync(file, lines.join('\n'));
console.error(`wrote ${file}`);
