import { FindingPool } from './finding-pool.js';
import { findingKey, type Enforcement, type Verdict } from './verdict.js';

/** The first-seen key of an object that could not be judged. */
export const ERROR_KEY = 'error';

/** What a report or an earlier leader recorded of an object: its verdict and when each finding was first seen. */
export interface Baseline {
  fingerprint: string;
  since: Map<string, number>;
}

export interface Counts {
  deny: number;
  warn: number;
  dryrun: number;
}

/** One namespace's standing: objects judged, how many break a rule, and by how much. */
export interface NamespaceTally {
  namespace: string;
  objects: number;
  compliant: number;
  violating: number;
  errors: number;
  violations: Counts;
}

/** One rule at one enforcement across the objects counted. */
export interface RuleTally {
  rule: string;
  enforcement: Enforcement;
  violations: number;
  objects: number;
}

/** Rule tallies of several namespaces summed by rule and enforcement, with how many namespaces each appears in. */
export function sumRuleTallies(perNamespace: Iterable<Iterable<RuleTally>>): Array<RuleTally & { namespaces: number }> {
  const out = new Map<string, RuleTally & { namespaces: number }>();
  for (const tallies of perNamespace) {
    for (const r of tallies) {
      const k = `${r.rule}\u0000${r.enforcement}`;
      const sum = out.get(k) ?? { rule: r.rule, enforcement: r.enforcement, violations: 0, objects: 0, namespaces: 0 };
      sum.violations += r.violations;
      sum.objects += r.objects;
      sum.namespaces++;
      out.set(k, sum);
    }
  }
  return [...out.values()];
}

/**
 * The verdicts of every audited object, by namespace, and when each of their findings was first seen.
 * Only verdicts are kept, never the objects, and equal findings of many objects are held once (a pool): an
 * object costs its identity and a few numbers, whatever rules it breaks.
 */
export class VerdictStore {
  private readonly byNamespace = new Map<string, Map<string, Verdict>>();
  /** Seconds since the epoch at which each finding of an object (by uid) was first seen, in the order of its findings (the error's alone). */
  private readonly since = new Map<string, number[]>();
  private readonly pool = new FindingPool();
  /** What the reports said when this leader started (uid → baseline); consumed as objects are judged. */
  private baseline = new Map<string, Baseline>();

  setBaseline(baseline: Map<string, Baseline>): void {
    this.baseline = baseline;
  }

  /**
   * Records a verdict and returns the fingerprint it replaces: the previous verdict's, else the one the
   * reports recorded, else '' (nothing known: as good as compliant, which is never announced). A verdict
   * kept takes the pool's copy of its findings and fingerprint in their place.
   */
  set(key: string, verdict: Verdict, nowSeconds = Math.floor(Date.now() / 1000)): string {
    const previous = this.get(key, verdict.namespace);
    const recorded = previous === undefined ? this.baseline.get(verdict.uid) : undefined;
    if (recorded) this.baseline.delete(verdict.uid);
    if (!verdict.skipped) {
      const shared = this.pool.acquire(verdict.findings, verdict.fingerprint);
      verdict.findings = shared.findings;
      verdict.fingerprint = shared.fingerprint;
    }
    const same = previous?.uid === verdict.uid;
    if (previous && !same) this.since.delete(previous.uid);
    // Judged again with the same findings (the pool's same copy): their times stand as they are.
    const unchanged = same && previous.findings === verdict.findings && previous.error === verdict.error && (verdict.findings.length > 0 || verdict.error !== undefined);
    if (!unchanged) {
      const keys = sinceKeys(verdict);
      const before = same ? this.sinceByKey(previous) : recorded?.since;
      if (keys.length > 0) this.since.set(verdict.uid, keys.map((k) => before?.get(k) ?? nowSeconds));
      else this.since.delete(verdict.uid);
    }
    if (previous) this.pool.release(previous.findings);
    if (verdict.skipped) this.drop(key, verdict.namespace);
    else {
      let verdicts = this.byNamespace.get(verdict.namespace);
      if (!verdicts) this.byNamespace.set(verdict.namespace, (verdicts = new Map()));
      verdicts.set(key, verdict);
    }
    return previous?.fingerprint ?? recorded?.fingerprint ?? '';
  }

  get(key: string, namespace: string): Verdict | undefined {
    return this.byNamespace.get(namespace)?.get(key);
  }

  /** Forgets an object (deleted, or its kind no longer served); returns its last verdict. */
  remove(key: string, namespace: string): Verdict | undefined {
    const verdict = this.get(key, namespace);
    if (verdict) {
      this.drop(key, namespace);
      this.since.delete(verdict.uid);
      this.pool.release(verdict.findings);
    }
    return verdict;
  }

  /** When a verdict's finding (by its index; 0 for the error) was first seen, in seconds since the epoch. */
  firstSeen(verdict: Verdict, index: number): number | undefined {
    return this.since.get(verdict.uid)?.[index];
  }

  /** Distinct findings held for all the verdicts. */
  get distinctFindings(): number {
    return this.pool.size;
  }

  namespaces(): string[] {
    return [...this.byNamespace.keys()];
  }

  verdicts(namespace: string): IterableIterator<Verdict> {
    return (this.byNamespace.get(namespace) ?? new Map<string, Verdict>()).values();
  }

  get size(): number {
    let n = 0;
    for (const v of this.byNamespace.values()) n += v.size;
    return n;
  }

  tally(namespace: string): NamespaceTally {
    const t: NamespaceTally = { namespace, objects: 0, compliant: 0, violating: 0, errors: 0, violations: { deny: 0, warn: 0, dryrun: 0 } };
    for (const v of this.verdicts(namespace)) {
      t.objects++;
      if (v.error !== undefined) t.errors++;
      else if (v.findings.length > 0) t.violating++;
      else t.compliant++;
      for (const f of v.findings) t.violations[f.enforcement]++;
    }
    return t;
  }

  /** Violations by rule and enforcement in the namespaces given (all when omitted), with the namespaces each appears in. */
  rules(namespaces: Iterable<string> = this.byNamespace.keys()): Array<RuleTally & { namespaces: number }> {
    return sumRuleTallies([...namespaces].map((ns) => this.namespaceRules(ns)));
  }

  /** One namespace's violations by rule and enforcement. */
  namespaceRules(namespace: string): RuleTally[] {
    const out = new Map<string, RuleTally>();
    for (const v of this.verdicts(namespace)) {
      const counted = new Set<string>();
      for (const f of v.findings) {
        const k = `${f.rule}\u0000${f.enforcement}`;
        const r = out.get(k) ?? { rule: f.rule, enforcement: f.enforcement, violations: 0, objects: 0 };
        r.violations++;
        if (!counted.has(k)) {
          counted.add(k);
          r.objects++;
        }
        out.set(k, r);
      }
    }
    return [...out.values()];
  }

  /** A stored verdict's first-seen times by finding key. */
  private sinceByKey(verdict: Verdict): Map<string, number> | undefined {
    const times = this.since.get(verdict.uid);
    if (!times) return undefined;
    return new Map(sinceKeys(verdict).map((k, i) => [k, times[i] ?? 0]));
  }

  private drop(key: string, namespace: string): void {
    const verdicts = this.byNamespace.get(namespace);
    if (!verdicts) return;
    verdicts.delete(key);
    if (verdicts.size === 0) this.byNamespace.delete(namespace);
  }
}

/** What each first-seen time of a verdict is for, in their order: its findings, or its error alone. */
function sinceKeys(verdict: Verdict): string[] {
  return verdict.error !== undefined ? [ERROR_KEY] : verdict.findings.map(findingKey);
}
