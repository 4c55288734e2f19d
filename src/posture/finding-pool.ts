import type { Finding } from './verdict.js';

interface Entry {
  findings: readonly Finding[];
  fingerprint: string;
  /** Its key in byContent. */
  content: string;
  /** Verdicts of the store that hold these findings. */
  refs: number;
}

/**
 * Equal findings of many objects, held once. The replicas of a workload, and every object a broad rule (a
 * Pod Security level) finds the same fault in, have findings of the same text: kept per object they were
 * most of the audit's memory (10,000 objects with five findings each: 38 MB of verdicts). The store holds
 * the shared copy and counts its holders, so an entry goes when the last verdict with those findings does.
 * Shared findings are never changed: a verdict with other findings gets another entry.
 */
export class FindingPool {
  private readonly byContent = new Map<string, Entry>();
  private readonly byFindings = new Map<readonly Finding[], Entry>();

  /** The shared copy of equal findings (and their fingerprint), held once more. */
  acquire(findings: readonly Finding[], fingerprint: string): { findings: readonly Finding[]; fingerprint: string } {
    if (findings.length === 0) return { findings, fingerprint };
    let entry = this.byFindings.get(findings);
    if (!entry) {
      // The fingerprint names rule, enforcement and message; details may still differ.
      const content = `${fingerprint}\u0002${JSON.stringify(findings.map((f) => f.details ?? null))}`;
      entry = this.byContent.get(content);
      if (!entry) {
        entry = { findings, fingerprint, content, refs: 0 };
        this.byContent.set(content, entry);
        this.byFindings.set(findings, entry);
      }
    }
    entry.refs++;
    return entry;
  }

  /** A verdict holding these findings left the store. */
  release(findings: readonly Finding[]): void {
    const entry = this.byFindings.get(findings);
    if (!entry || --entry.refs > 0) return;
    this.byFindings.delete(findings);
    this.byContent.delete(entry.content);
  }

  /** Distinct findings held. */
  get size(): number {
    return this.byFindings.size;
  }
}
