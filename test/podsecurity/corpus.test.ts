// The Pod Security corpus on its own: its golden files are current, and every case gets from Portcullis'
// compiled policy the verdict it was written for, at its level and version (the differential test then
// holds both to the API server's own PodSecurity admission).
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import t from 'tap';
import { readArchive } from '../../src/policy/bundle/archive.js';
import { loadBundle } from '../../src/policy/bundle/bundle.js';
import { DEFAULT_LIMITS } from '../../src/policy/bundle/files.js';
import { PolicyEngine } from '../../src/policy/engine.js';
import { BUILTIN_BUNDLE } from '../helpers/paths.js';
import { CHECK_ANNOTATION, cases, GOLDEN_DIR, goldenFiles, goldenPath, LEVELS, VERSIONS, type Case } from './corpus.js';
import { deniedChecks, podSecurityOverlay } from './verdicts.js';

t.test('the golden files are those the corpus generates (regenerate: node --import tsx test/podsecurity/corpus.ts --write)', async (t) => {
  const expected = new Set<string>();
  for (const level of LEVELS) {
    for (const minor of VERSIONS) {
      const files = goldenFiles(level, minor);
      for (const expect of ['pass', 'fail'] as const) {
        const path = goldenPath(level, minor, expect);
        expected.add(relative(GOLDEN_DIR, path));
        let text = '';
        try {
          text = readFileSync(path, 'utf8');
        } catch {
          // reported as different below
        }
        t.ok(text === files[expect], `${relative(GOLDEN_DIR, path)} is current`);
      }
    }
  }
  const present = LEVELS.flatMap((level) => readdirSync(join(GOLDEN_DIR, level), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.yaml')).map((f) => join(level, f)));
  t.same(present.filter((f) => !expected.has(f)), [], 'no golden file the corpus does not generate');
});

t.test('every case gets the verdict it was written for from the compiled policy', async (t) => {
  const engine = new PolicyEngine();
  await engine.activate(await loadBundle('builtin', await readArchive('builtin', readFileSync(BUILTIN_BUNDLE), DEFAULT_LIMITS)));
  await engine.setOverlay(podSecurityOverlay(['*']));
  const all: Case[] = LEVELS.flatMap((level) => VERSIONS.flatMap((minor) => cases(level, minor)));
  const wrong: string[] = [];
  for (const c of all) {
    const labels = { 'pod-security.kubernetes.io/enforce': c.level, 'pod-security.kubernetes.io/enforce-version': `v1.${c.minor}`, 'pod-security.kubernetes.io/warn': 'privileged', 'pod-security.kubernetes.io/audit': 'privileged' };
    const input = {
      request: { uid: c.name, kind: { group: '', version: 'v1', kind: 'Pod' }, namespace: 'corpus', operation: 'CREATE', userInfo: { username: 'corpus' }, object: { ...c.pod, metadata: { ...c.pod.metadata, namespace: 'corpus' } } },
      context: { namespace: { name: 'corpus', labels, annotations: {} }, cluster: { name: 'test', trustDomain: 'cluster.local' } },
    };
    const denied = deniedChecks(engine.evaluate('portcullis/admission/violations', input));
    const check = c.pod.metadata?.annotations?.[CHECK_ANNOTATION];
    const ok = c.expect === 'pass' ? denied.size === 0 : denied.has(check!) || denied.has(REPLACED_BY[check!] ?? '');
    if (!ok) wrong.push(`${c.level} v1.${c.minor} ${c.name}: denied by [${[...denied].join(', ')}]`);
  }
  t.same(wrong, [], `${all.length} cases`);
});

/** At restricted these baseline checks are replaced by a restricted one, which then refuses what they refused. */
const REPLACED_BY: Record<string, string> = {
  hostPathVolumes: 'restrictedVolumes',
  capabilities_baseline: 'capabilities_restricted',
  seccompProfile_baseline: 'seccompProfile_restricted',
  procMount: 'procMount_restricted',
};
