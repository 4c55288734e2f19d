import { createHash } from 'node:crypto';
import { isAbsolute, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { EvalResult } from '../evaluate.js';
import { objectName, refusalWithoutRule } from './summary.js';

/** The rule of a refusal that no policy rule explains: the decision failed, or the mutating webhook refused. */
const REFUSED = 'portcullis-refused';
const LEVEL = { deny: 'error', warn: 'warning', dryrun: 'note' } as const;

/**
 * --output sarif: SARIF 2.1.0, which code scanning (GitHub's upload-sarif, GitLab, Azure DevOps) turns into
 * annotations on the lines of the pull request. deny is an error, warn a warning, dryrun a note. Each
 * result has a fingerprint of rule, kind, namespace and name, so an alert follows its object when lines move.
 */
export function sarif(results: EvalResult[], bundles: Record<string, string>, version: string): string {
  const rules = new Map<string, { id: string; shortDescription: { text: string } }>();
  const out: unknown[] = [];
  const add = (r: EvalResult, ruleId: string, level: string, text: string) => {
    if (!rules.has(ruleId)) rules.set(ruleId, { id: ruleId, shortDescription: { text: ruleId === REFUSED ? 'the webhooks would refuse the object' : `Portcullis admission rule ${ruleId}` } });
    out.push({
      ruleId,
      level,
      message: { text: `${objectName(r)}: ${text}` },
      locations: [{ physicalLocation: { artifactLocation: { uri: uriOf(r.file) }, region: { startLine: r.line } } }],
      partialFingerprints: { 'portcullis/v1': createHash('sha256').update(`${ruleId}\u0000${r.kind}\u0000${r.namespace}\u0000${r.name}\u0000${text}`).digest('hex').slice(0, 32) },
    });
  };
  for (const r of results) {
    const failure = refusalWithoutRule(r);
    if (failure) add(r, REFUSED, 'error', failure);
    for (const v of r.violations) add(r, v.rule, LEVEL[v.enforcement], v.msg);
  }
  const doc = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'portcullis', version, semanticVersion: version, rules: [...rules.values()].sort((a, b) => (a.id < b.id ? -1 : 1)) } },
        properties: { bundles },
        results: out,
      },
    ],
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** Relative paths as they are (code scanning resolves them against the checkout), absolute ones as file: URLs. */
function uriOf(file: string): string {
  if (file === '-') return 'stdin';
  if (isAbsolute(file)) return pathToFileURL(file).href;
  return file.split(sep).map(encodeURIComponent).join('/');
}
