import { bareKind } from './kinds.js';
import { type Counts, type RuleTally, type VerdictStore } from './store.js';
import { cmp, SEVERITY, type Enforcement, type Verdict } from './verdict.js';

/**
 * The reports, in OpenReports' format (openreports.io/v1alpha1 Report and ClusterReport): the successor of
 * the Policy WG's wgpolicyk8s.io PolicyReport, with the same fields under new names, which Kyverno (1.15+)
 * and Kubewarden (its chart's default since 2026) write and Policy Reporter reads. One Report per audited
 * namespace and one ClusterReport; never one per object (Kyverno's per-resource reports filled etcd).
 */
export const GROUP = 'openreports.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const SOURCE = 'portcullis';

export const LABELS = { 'app.kubernetes.io/managed-by': 'portcullis', 'app.kubernetes.io/component': 'posture' } as const;
export const LABEL_SELECTOR = Object.entries(LABELS)
  .map(([k, v]) => `${k}=${v}`)
  .join(',');

/** Annotations for what the format has no field for, read back by replicas that answer the posture API from the reports. */
export const ANNOTATIONS = {
  /** A namespace report: its violations by rule and enforcement, complete even when the results are capped. */
  rules: 'posture.portcullis.io/rules',
  /** A namespace report: objects judged and how they stand, complete. */
  objects: 'posture.portcullis.io/objects',
  /** A namespace report: results left out by the cap. */
  omitted: 'posture.portcullis.io/results-omitted',
  /** The ClusterReport: revision of every active bundle. */
  bundles: 'posture.portcullis.io/bundles',
  /** The ClusterReport: the last complete sweep. */
  sweep: 'posture.portcullis.io/last-sweep',
  /** The ClusterReport: the replica that wrote it. */
  leader: 'posture.portcullis.io/leader',
} as const;

export type ResultValue = 'fail' | 'warn' | 'error';

export interface ReportResult {
  source: string;
  policy: string;
  category: string;
  severity?: 'high' | 'medium' | 'low';
  timestamp: { seconds: number; nanos: number };
  result: ResultValue;
  scored: boolean;
  resources: Array<{ apiVersion: string; kind: string; namespace?: string; name: string; uid: string }>;
  message: string;
  properties: Record<string, string>;
}

export interface Report {
  apiVersion: typeof API_VERSION;
  kind: 'Report' | 'ClusterReport';
  metadata: { name: string; namespace?: string; labels: Record<string, string>; annotations: Record<string, string> };
  source: string;
  scope?: { apiVersion: string; kind: string; name: string };
  configuration: { limits: { maxResults: number; statusFilter: ResultValue[] } };
  summary: { pass: number; fail: number; warn: number; error: number; skip: number };
  results: ReportResult[];
}

export interface SweepRecord {
  reason: string;
  startedAt: string;
  endedAt: string;
  durationMs: number;
  objects: number;
}

/** deny refuses: a failure; warn and dryrun are not enforced (OpenReports' "warn": not met, not scored). */
const RESULT: Record<Enforcement, ResultValue> = { deny: 'fail', warn: 'warn', dryrun: 'warn' };
const SEVERITY_OF: Record<Enforcement, 'high' | 'medium' | 'low'> = { deny: 'high', warn: 'medium', dryrun: 'low' };

/**
 * A namespace's report: the summary always complete, the results capped at maxResults, the most severe
 * first (evaluation errors, then deny, warn, dryrun; then by kind, name, rule). Deterministic: the same
 * verdicts always make the same document, so an unchanged report is never written again.
 */
export function namespaceReport(store: VerdictStore, namespace: string, options: { name: string; maxResults: number }): Report {
  const results: Array<{ order: number; verdict: Verdict; result: ReportResult }> = [];
  const tally = store.tally(namespace);
  for (const v of store.verdicts(namespace)) {
    const resource = { apiVersion: v.apiVersion, kind: bareKind(v.kind), namespace, name: v.name, uid: v.uid };
    if (v.error !== undefined) {
      results.push({
        order: -1,
        verdict: v,
        result: { source: SOURCE, policy: 'evaluation', category: 'Portcullis', timestamp: { seconds: store.firstSeen(v, 0) ?? 0, nanos: 0 }, result: 'error', scored: true, resources: [resource], message: v.error, properties: {} },
      });
      continue;
    }
    for (const [i, f] of v.findings.entries()) {
      const properties: Record<string, string> = { enforcement: f.enforcement };
      for (const [k, x] of Object.entries((f.details as Record<string, string> | undefined) ?? {})) if (!(k in properties)) properties[k] = x;
      results.push({
        order: SEVERITY[f.enforcement],
        verdict: v,
        result: {
          source: SOURCE,
          policy: f.rule,
          category: categoryOf(f.rule),
          severity: SEVERITY_OF[f.enforcement],
          timestamp: { seconds: store.firstSeen(v, i) ?? 0, nanos: 0 },
          result: RESULT[f.enforcement],
          scored: f.enforcement === 'deny',
          resources: [resource],
          message: f.msg,
          properties,
        },
      });
    }
  }
  results.sort((a, b) => a.order - b.order || cmp(a.verdict.kind, b.verdict.kind) || cmp(a.verdict.name, b.verdict.name) || cmp(a.result.policy, b.result.policy) || cmp(a.result.message, b.result.message));
  const kept = results.slice(0, options.maxResults).map((r) => r.result);
  const annotations: Record<string, string> = {
    [ANNOTATIONS.objects]: JSON.stringify({ objects: tally.objects, compliant: tally.compliant, violating: tally.violating, errors: tally.errors }),
    [ANNOTATIONS.rules]: JSON.stringify(sortRules(store.namespaceRules(namespace))),
  };
  if (results.length > kept.length) annotations[ANNOTATIONS.omitted] = String(results.length - kept.length);
  return {
    apiVersion: API_VERSION,
    kind: 'Report',
    metadata: { name: options.name, namespace, labels: { ...LABELS }, annotations },
    source: SOURCE,
    scope: { apiVersion: 'v1', kind: 'Namespace', name: namespace },
    configuration: { limits: { maxResults: options.maxResults, statusFilter: ['fail', 'warn', 'error'] } },
    summary: summaryOf(tally.compliant, tally.violations, tally.errors),
    results: kept,
  };
}

/**
 * The cluster-wide report: every audited namespace summed. The judged kinds are all namespaced, so its
 * results stay empty and the namespace reports hold each result once (consumers that add up results do not
 * count anything twice); what the API needs beyond the format rides in annotations.
 */
export function clusterReport(store: VerdictStore, options: { name: string; maxResults: number; bundles: Record<string, string>; sweep: SweepRecord | undefined; leader: string }): Report {
  let compliant = 0;
  let errors = 0;
  const violations: Counts = { deny: 0, warn: 0, dryrun: 0 };
  for (const ns of store.namespaces()) {
    const t = store.tally(ns);
    compliant += t.compliant;
    errors += t.errors;
    for (const e of ['deny', 'warn', 'dryrun'] as const) violations[e] += t.violations[e];
  }
  return {
    apiVersion: API_VERSION,
    kind: 'ClusterReport',
    metadata: {
      name: options.name,
      labels: { ...LABELS },
      annotations: {
        [ANNOTATIONS.bundles]: JSON.stringify(options.bundles),
        [ANNOTATIONS.sweep]: JSON.stringify(options.sweep ?? null),
        [ANNOTATIONS.leader]: options.leader,
      },
    },
    source: SOURCE,
    configuration: { limits: { maxResults: options.maxResults, statusFilter: ['fail', 'warn', 'error'] } },
    summary: summaryOf(compliant, violations, errors),
    results: [],
  };
}

/** pass counts compliant objects (the rules that held for each are not listed by the policy), fail and warn count violations, error objects that could not be judged. */
function summaryOf(compliant: number, violations: Counts, errors: number): Report['summary'] {
  return { pass: compliant, fail: violations.deny, warn: violations.warn + violations.dryrun, error: errors, skip: 0 };
}

export function sortRules<T extends RuleTally>(rules: T[]): T[] {
  return rules.sort((a, b) => SEVERITY[a.enforcement] - SEVERITY[b.enforcement] || b.violations - a.violations || cmp(a.rule, b.rule));
}

/** "pod-security:privileged" → "pod-security"; a rule without a family is one of the mesh's zero-trust rules. */
function categoryOf(rule: string): string {
  const colon = rule.indexOf(':');
  return colon > 0 ? rule.slice(0, colon) : 'zero-trust';
}
