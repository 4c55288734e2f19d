// The docs stand alone: every Markdown link resolves inside the repository (files, and headings for
// #anchors), nothing points outside it, and the README stays a front page.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import t from 'tap';
import { ROOT } from '../helpers/paths.js';

const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.md'], { cwd: ROOT, encoding: 'utf8' })
  .split('\n')
  .filter((f) => f && existsSync(join(ROOT, f)));

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const m = !fenced && /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = m[1]!
      .replace(/<[^>]+>/g, '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  return out;
}

/** Inline links and images outside code: [text](target) and ![alt](target). */
function links(markdown: string): { target: string; line: number }[] {
  const out: { target: string; line: number }[] = [];
  let fenced = false;
  markdown.split('\n').forEach((text, i) => {
    if (/^\s*(```|~~~)/.test(text)) fenced = !fenced;
    if (fenced) return;
    const prose = text.replace(/`[^`]*`/g, '');
    for (const m of prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push({ target: m[1]!, line: i + 1 });
  });
  return out;
}

t.ok(files.length >= 10, `${files.length} Markdown files`);

for (const file of files) {
  t.test(file, async (t) => {
    const text = readFileSync(join(ROOT, file), 'utf8');
    t.notMatch(text, /\.\.\/shared|\/work\/shared/, 'names nothing outside the repository');
    for (const { target, line } of links(text)) {
      if (/^(https?:|mailto:)/.test(target)) continue;
      const [path, anchor] = target.split('#') as [string, string | undefined];
      const resolved = path ? resolve(dirname(join(ROOT, file)), decodeURIComponent(path)) : join(ROOT, file);
      const where = `${file}:${line} → ${target}`;
      t.notOk(relative(ROOT, resolved).startsWith('..'), `${where} stays inside the repository`);
      if (!existsSync(resolved)) {
        t.fail(`${where}: no such file`);
        continue;
      }
      if (anchor && statSync(resolved).isFile() && resolved.endsWith('.md')) {
        t.ok(anchors(readFileSync(resolved, 'utf8')).has(anchor), `${where}: the heading exists`);
      }
    }
  });
}

t.test('the README is a front page: short, with both commands and a map of docs/', async (t) => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const lines = readme.split('\n').length;
  t.ok(lines <= 200, `${lines} lines`);
  t.match(readme, /^npm install && npm start\s+# runs the service/m);
  t.match(readme, /^npm install && npm test\s+# runs the whole test suite$/m, '.ci/run runs the line ending in this marker');
  for (const page of ['architecture', 'admission', 'ext-authz', 'policies', 'configuration', 'operations', 'security', 'benchmarks', 'testing']) {
    t.match(readme, `(docs/${page}.md)`, `links docs/${page}.md`);
  }
});
