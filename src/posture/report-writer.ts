import { createHash } from 'node:crypto';
import { describe, isNotFound } from '../kube/errors.js';
import type { RawClient } from '../kube/raw.js';
import { API_VERSION, clusterReport, LABEL_SELECTOR, namespaceReport, type Report, type SweepRecord } from './report.js';
import { ERROR_KEY, type Baseline, type VerdictStore } from './store.js';
import { compareFindings, findingKey, fingerprintOf, type Enforcement, type Finding } from './verdict.js';

export interface ReportWriterOptions {
  raw: RawClient;
  store: VerdictStore;
  name: string;
  maxResults: number;
  writeDelayMs: number;
  /** What the ClusterReport records besides the totals. */
  cluster(): { bundles: Record<string, string>; sweep: SweepRecord | undefined; leader: string };
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

export const FIELD_MANAGER = 'portcullis-posture';

/** Every report of that name Portcullis wrote: one per namespace, and the ClusterReport if there is one. */
export async function readReports(raw: RawClient, name: string): Promise<{ namespaced: Report[]; cluster: Report | undefined }> {
  const namespaced: Report[] = [];
  let token: string | undefined;
  do {
    const page = await raw.list<Report>(`/apis/${API_VERSION}/reports`, { labelSelector: LABEL_SELECTOR, limit: 500, ...(token ? { _continue: token } : {}) });
    for (const r of page.items) if (r.metadata?.name === name) namespaced.push(r);
    token = page.metadata?._continue;
  } while (token);
  const cluster = await raw.get<Report>(reportPath(name)).catch((err: unknown) => {
    if (isNotFound(err)) return undefined;
    throw err;
  });
  return { namespaced, cluster };
}

export function reportPath(name: string, namespace?: string): string {
  return namespace ? `/apis/${API_VERSION}/namespaces/${namespace}/reports/${name}` : `/apis/${API_VERSION}/clusterreports/${name}`;
}

/**
 * Keeps the reports equal to the verdicts, writing only what changed. What each report holds was read once
 * when this leader started and is remembered after every write, so a report whose content is the same is
 * never sent again, however often objects are judged; changes are gathered for writeDelayMs first. A report
 * that cannot be written (no CRD, no permission) is tried again at the next flush.
 */
export class ReportWriter {
  /**
   * Digest of each report's canonical content as stored: namespace ('' for the ClusterReport) → SHA-256.
   * Not the content itself: a hundred namespaces of 500 results each were 30 MB of JSON kept only to compare.
   */
  private readonly written = new Map<string, string>();
  private readonly dirty = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private ready = false;
  private stopped = false;
  private lastError: string | undefined;
  readonly stats = { writes: 0, deletes: 0, unchanged: 0, failures: 0 };

  constructor(private readonly options: ReportWriterOptions) {}

  /**
   * Reads the reports an earlier leader wrote: what they hold (so an unchanged one is not written again) and
   * each object's findings with their first-seen times (so a change of leader neither announces every
   * verdict again nor resets when a finding was first seen). Objects beyond a report's cap are unknown.
   */
  async load(): Promise<Map<string, Baseline>> {
    const baseline = new Map<string, Baseline>();
    let reports: Report[];
    try {
      const read = await readReports(this.options.raw, this.options.name);
      reports = read.namespaced;
      if (read.cluster) this.written.set('', digestOf(read.cluster));
    } catch (err) {
      this.fail('reading the existing reports', err);
      return baseline;
    }
    for (const report of reports) {
      this.written.set(report.metadata.namespace ?? '', digestOf(report));
      const byUid = new Map<string, { findings: Finding[]; error?: string; since: Map<string, number> }>();
      for (const r of report.results ?? []) {
        const uid = r.resources?.[0]?.uid;
        if (!uid) continue;
        const entry = byUid.get(uid) ?? { findings: [], since: new Map<string, number>() };
        byUid.set(uid, entry);
        if (r.result === 'error') {
          entry.error = r.message;
          entry.since.set(ERROR_KEY, r.timestamp?.seconds ?? 0);
          continue;
        }
        const f: Finding = { rule: r.policy, enforcement: (r.properties?.enforcement ?? 'deny') as Enforcement, msg: r.message };
        entry.findings.push(f);
        entry.since.set(findingKey(f), r.timestamp?.seconds ?? 0);
      }
      for (const [uid, e] of byUid) {
        const findings = [...e.findings].sort(compareFindings);
        baseline.set(uid, { fingerprint: fingerprintOf(findings, e.error), since: e.since });
      }
    }
    this.options.log.info({ reports: reports.length, objects: baseline.size }, 'posture: existing reports read');
    return baseline;
  }

  /** A namespace whose verdicts changed: its report, and the ClusterReport, are written after the delay. */
  touch(namespace: string): void {
    this.dirty.add(namespace);
    this.dirty.add('');
    if (this.ready) this.schedule();
  }

  /**
   * After the first complete sweep: the reports can now be made whole, and those of namespaces that no
   * longer hold an audited object removed.
   */
  start(): Promise<void> {
    this.ready = true;
    for (const ns of this.written.keys()) this.dirty.add(ns);
    for (const ns of this.options.store.namespaces()) this.dirty.add(ns);
    this.dirty.add('');
    return this.flush();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.flushing;
  }

  status() {
    return { ...this.stats, pending: this.dirty.size, ...(this.lastError ? { lastError: this.lastError } : {}) };
  }

  /** Writes every changed report now (waits for a flush under way, then flushes what is left). */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.flushing) await this.flushing;
    if (this.stopped || this.dirty.size === 0) return;
    this.flushing = this.write().finally(() => (this.flushing = undefined));
    await this.flushing;
  }

  private schedule(): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => void this.flush(), this.options.writeDelayMs);
    this.timer.unref();
  }

  private async write(): Promise<void> {
    const { store, name, maxResults } = this.options;
    // The ClusterReport last: its totals are the sum of what was just written.
    const namespaces = [...this.dirty].filter((ns) => ns !== '').sort();
    const failed: string[] = [];
    for (const ns of [...namespaces, '']) {
      if (this.stopped) return;
      this.dirty.delete(ns);
      const path = reportPath(name, ns || undefined);
      try {
        const hasObjects = ns === '' || store.verdicts(ns).next().done === false;
        if (!hasObjects) {
          if (!this.written.has(ns)) continue;
          await this.options.raw.delete(path).catch((err: unknown) => {
            if (!isNotFound(err)) throw err;
          });
          this.written.delete(ns);
          this.stats.deletes++;
          continue;
        }
        const report = ns === '' ? clusterReport(store, { name, maxResults, ...this.options.cluster() }) : namespaceReport(store, ns, { name, maxResults });
        const digest = digestOf(report);
        if (this.written.get(ns) === digest) {
          this.stats.unchanged++;
          continue;
        }
        await this.options.raw.apply(path, report, FIELD_MANAGER);
        this.written.set(ns, digest);
        this.stats.writes++;
        this.lastError = undefined;
      } catch (err) {
        // A namespace deleted meanwhile takes its report with it; anything else is tried again later.
        if (isNotFound(err) && ns !== '' && store.verdicts(ns).next().done) continue;
        failed.push(ns);
        this.fail(`writing the report ${ns ? `${ns}/` : ''}${name}`, err);
      }
    }
    for (const ns of failed) this.dirty.add(ns);
    if (failed.length > 0) {
      this.timer = setTimeout(() => void this.flush(), Math.max(this.options.writeDelayMs, 10_000));
      this.timer.unref();
    } else if (this.dirty.size > 0) this.schedule();
  }

  private fail(what: string, err: unknown): void {
    this.stats.failures++;
    const message = `${what}: ${describe(err)}`;
    if (message !== this.lastError) this.options.log.warn({ err: describe(err) }, `posture: ${what} failed${isNotFound(err) ? ' (are the openreports.io CRDs installed?)' : ''}`);
    this.lastError = message;
  }
}

/** What identifies a report's content: equal digests, equal reports (as far as Portcullis decides them). */
function digestOf(r: Report): string {
  return createHash('sha256').update(canonical(comparable(r))).digest('base64');
}

/** The part of a report that Portcullis decides: what the API server adds (uid, resourceVersion, managedFields, ...) left out. */
function comparable(r: Report): unknown {
  const m = r.metadata ?? ({} as Report['metadata']);
  return {
    metadata: { name: m.name, namespace: m.namespace, labels: m.labels ?? {}, annotations: m.annotations ?? {} },
    source: r.source,
    scope: r.scope,
    configuration: r.configuration,
    summary: r.summary,
    results: r.results ?? [],
  };
}

/** JSON with object keys sorted, as the API server returns stored objects: equal content, equal text. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  });
}
