import { isNotFound } from '../kube/errors.js';
import type { RawClient } from '../kube/raw.js';
import { readReports, reportPath } from './report-writer.js';
import { ANNOTATIONS, sortRules, type Report, type SweepRecord } from './report.js';
import { bareKind } from './kinds.js';
import { sumRuleTallies, type Counts, type NamespaceTally, type RuleTally, type VerdictStore } from './store.js';
import { cmp, SEVERITY, type Enforcement } from './verdict.js';

/** GET /api/v1/security/posture */
export interface PostureOverview {
  /** "leader": this replica runs the audit; "reports": read from the reports the leader wrote. */
  source: 'leader' | 'reports';
  leader: string | null;
  bundles: Record<string, string>;
  lastSweep: SweepRecord | null;
  sweeping: boolean;
  totals: { objects: number; compliant: number; violating: number; errors: number; violations: Counts };
  rules: Array<RuleTally & { namespaces: number }>;
  namespaces: NamespaceTally[];
}

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
}

/** GET /api/v1/security/posture/{namespace} */
export interface NamespacePosture {
  source: 'leader' | 'reports';
  namespace: string;
  summary: NamespaceTally;
  violations: Array<{ object: ObjectRef; rule: string; enforcement: Enforcement; message: string; since: string | null }>;
  errors: Array<{ object: ObjectRef; error: string; since: string | null }>;
  /** Violations and errors left out (the limit asked for, or the report's cap). */
  omitted: number;
}

export interface NamespaceQuery {
  rule?: string;
  enforcement?: Enforcement;
  limit: number;
}

/** What the posture API answers from: the audit's own store on the leader, the reports elsewhere. */
export interface PostureView {
  overview(): Promise<PostureOverview>;
  /** undefined: no audited object in that namespace. */
  namespace(name: string, query: NamespaceQuery): Promise<NamespacePosture | undefined>;
}

export function storeView(store: VerdictStore, state: { leader: string; bundles(): Record<string, string>; lastSweep(): SweepRecord | undefined; sweeping(): boolean }): PostureView {
  return {
    async overview() {
      const namespaces = store
        .namespaces()
        .sort(cmp)
        .map((ns) => store.tally(ns));
      return {
        source: 'leader',
        leader: state.leader,
        bundles: state.bundles(),
        lastSweep: state.lastSweep() ?? null,
        sweeping: state.sweeping(),
        totals: totalsOf(namespaces),
        rules: sortRules(store.rules()),
        namespaces,
      };
    },
    async namespace(name, query) {
      const summary = store.tally(name);
      if (summary.objects === 0) return undefined;
      const violations: NamespacePosture['violations'] = [];
      const errors: NamespacePosture['errors'] = [];
      for (const v of store.verdicts(name)) {
        const object = { apiVersion: v.apiVersion, kind: bareKind(v.kind), name: v.name, uid: v.uid };
        if (v.error !== undefined && !query.rule && !query.enforcement) errors.push({ object, error: v.error, since: iso(store.firstSeen(v, 0)) });
        for (const [i, f] of v.findings.entries()) {
          if ((query.rule && f.rule !== query.rule) || (query.enforcement && f.enforcement !== query.enforcement)) continue;
          violations.push({ object, rule: f.rule, enforcement: f.enforcement, message: f.msg, since: iso(store.firstSeen(v, i)) });
        }
      }
      return limited({ source: 'leader', namespace: name, summary, violations, errors, omitted: 0 }, query.limit);
    },
  };
}

/**
 * The same answers from the reports, for replicas that do not lead: the summaries and counts are complete
 * (the reports carry them whole), the violations only as far as a report's results were capped.
 */
export function reportView(raw: RawClient, name: string): PostureView {
  return {
    async overview() {
      const { namespaced: reports, cluster } = await readReports(raw, name);
      const namespaces = reports.map(tallyOf).sort((a, b) => cmp(a.namespace, b.namespace));
      const rules = sumRuleTallies(reports.map((r) => parse<RuleTally[]>(r.metadata.annotations?.[ANNOTATIONS.rules], [])));
      const annotations = cluster?.metadata.annotations ?? {};
      return {
        source: 'reports',
        leader: annotations[ANNOTATIONS.leader] ?? null,
        bundles: parse<Record<string, string>>(annotations[ANNOTATIONS.bundles], {}),
        lastSweep: parse<SweepRecord | null>(annotations[ANNOTATIONS.sweep], null),
        sweeping: false,
        totals: totalsOf(namespaces),
        rules: sortRules(rules),
        namespaces,
      };
    },
    async namespace(namespace, query) {
      const report = await raw.get<Report>(reportPath(name, namespace)).catch((err: unknown) => {
        if (isNotFound(err)) return undefined;
        throw err;
      });
      if (!report) return undefined;
      const violations: NamespacePosture['violations'] = [];
      const errors: NamespacePosture['errors'] = [];
      for (const r of report.results ?? []) {
        const res = r.resources?.[0];
        const object = { apiVersion: res?.apiVersion ?? '', kind: res?.kind ?? '', name: res?.name ?? '', uid: res?.uid ?? '' };
        const since = r.timestamp?.seconds ? iso(r.timestamp.seconds) : null;
        if (r.result === 'error') {
          if (!query.rule && !query.enforcement) errors.push({ object, error: r.message, since });
          continue;
        }
        const enforcement = (r.properties?.enforcement ?? 'deny') as Enforcement;
        if ((query.rule && r.policy !== query.rule) || (query.enforcement && enforcement !== query.enforcement)) continue;
        violations.push({ object, rule: r.policy, enforcement, message: r.message, since });
      }
      const capped = Number(report.metadata.annotations?.[ANNOTATIONS.omitted] ?? 0);
      const answer = limited({ source: 'reports', namespace, summary: tallyOf(report), violations, errors, omitted: 0 }, query.limit);
      // Filtered, the omitted results may or may not have matched: counted only without a filter.
      if (!query.rule && !query.enforcement) answer.omitted += capped;
      return answer;
    },
  };
}

function tallyOf(r: Report): NamespaceTally {
  const objects = parse<{ objects?: number; compliant?: number; violating?: number; errors?: number }>(r.metadata.annotations?.[ANNOTATIONS.objects], {});
  const violations: Counts = { deny: 0, warn: 0, dryrun: 0 };
  for (const t of parse<RuleTally[]>(r.metadata.annotations?.[ANNOTATIONS.rules], [])) if (t.enforcement in violations) violations[t.enforcement] += t.violations;
  return {
    namespace: r.metadata.namespace ?? '',
    objects: objects.objects ?? 0,
    compliant: objects.compliant ?? r.summary?.pass ?? 0,
    violating: objects.violating ?? 0,
    errors: objects.errors ?? r.summary?.error ?? 0,
    violations,
  };
}

function totalsOf(namespaces: NamespaceTally[]): PostureOverview['totals'] {
  const totals = { objects: 0, compliant: 0, violating: 0, errors: 0, violations: { deny: 0, warn: 0, dryrun: 0 } };
  for (const t of namespaces) {
    totals.objects += t.objects;
    totals.compliant += t.compliant;
    totals.violating += t.violating;
    totals.errors += t.errors;
    for (const e of ['deny', 'warn', 'dryrun'] as const) totals.violations[e] += t.violations[e];
  }
  return totals;
}

/** The most severe first (errors, deny, warn, dryrun), then by object and rule; at most `limit` of them in all. */
function limited(answer: NamespacePosture, limit: number): NamespacePosture {
  answer.violations.sort((a, b) => SEVERITY[a.enforcement] - SEVERITY[b.enforcement] || cmp(a.object.kind, b.object.kind) || cmp(a.object.name, b.object.name) || cmp(a.rule, b.rule) || cmp(a.message, b.message));
  answer.errors.sort((a, b) => cmp(a.object.kind, b.object.kind) || cmp(a.object.name, b.object.name));
  const errors = answer.errors.slice(0, limit);
  const violations = answer.violations.slice(0, Math.max(0, limit - errors.length));
  answer.omitted += answer.errors.length - errors.length + answer.violations.length - violations.length;
  answer.errors = errors;
  answer.violations = violations;
  return answer;
}

function iso(seconds: number | undefined): string | null {
  return seconds ? new Date(seconds * 1000).toISOString() : null;
}

function parse<T>(text: string | undefined, fallback: T): T {
  if (text === undefined) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}
