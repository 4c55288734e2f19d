import type { NamespaceInfo } from '../facts/facts.js';
import type { Snapshot } from '../policy/engine.js';

export type Enforcement = 'deny' | 'warn' | 'dryrun';

/** One violation of the violations entrypoint: `[{rule, msg, enforcement, details?}]` (DESIGN.md, Bundle). */
export interface Finding {
  rule: string;
  msg: string;
  enforcement: Enforcement;
  details?: unknown;
}

/**
 * What the webhooks would answer for one object's CREATE: the validating webhook's violations, and with
 * mutation, the mutating webhook's answer first (sidecar injection and mutation policies).
 */
export interface Judgement {
  allowed: boolean;
  /** The refusal the API server would show. */
  message?: string;
  /** The decision itself failed (no bundle, a policy error): the webhooks fail closed. */
  error?: string;
  violations: Finding[];
  warnings: string[];
  mutation?: { allowed: boolean; injected: boolean; reason?: string; patch: unknown[] };
  /** The policy input of the validating webhook, for the audit trail. */
  input?: unknown;
  /** Nanoseconds spent in the policy. */
  evalNs: number;
}

/**
 * Judges one object as the webhooks would judge its CREATE, on one policy snapshot, with the namespace
 * facts given. Posture does not make decisions of its own: the admission decision path is handed in
 * (src/server wires it), so the rules, the input document and the failure handling are the webhooks'.
 */
export type Judge = (snapshot: Snapshot, object: Record<string, unknown>, namespace: NamespaceInfo | null) => Judgement;

/** An object's standing as the audit last found it. Small: the object itself is never kept. */
export interface Verdict {
  uid: string;
  apiVersion: string;
  /** "apps/Deployment", as the rules name kinds. */
  kind: string;
  namespace: string;
  name: string;
  /** Shared with the verdicts of equal findings once stored (store.ts): never changed in place. */
  findings: readonly Finding[];
  error?: string;
  /** Outside the audited namespaces (excluded, or not matching the selector): not judged. */
  skipped?: boolean;
  /** Judged while its namespace was not known yet: judged again once it is. */
  namespaceUnknown?: boolean;
  /** Equal for equal verdicts: the rules, enforcements and messages, or the error. */
  fingerprint: string;
}

/** Findings sorted the same way every time, each message bounded, details kept only as short scalars. */
export function verdictOf(identity: Omit<Verdict, 'findings' | 'fingerprint' | 'error'>, judgement: Pick<Judgement, 'violations' | 'error'>): Verdict {
  const findings = judgement.error !== undefined || judgement.violations.length === 0 ? NONE : judgement.violations.map(bounded).sort(compareFindings);
  const error = judgement.error !== undefined ? clip(judgement.error, MAX_MESSAGE) : undefined;
  return { ...identity, findings, ...(error !== undefined ? { error } : {}), fingerprint: fingerprintOf(findings, error) };
}

export function fingerprintOf(findings: readonly Finding[], error?: string): string {
  if (error !== undefined) return `error\u0000${error}`;
  return findings.map(findingKey).join('\u0001');
}

/** A finding's identity across sweeps: its first-seen time is kept while this stays the same. */
export function findingKey(f: Pick<Finding, 'rule' | 'enforcement' | 'msg'>): string {
  return `${f.rule}\u0000${f.enforcement}\u0000${f.msg}`;
}

export const SEVERITY: Record<Enforcement, number> = { deny: 0, warn: 1, dryrun: 2 };

export function compareFindings(a: Finding, b: Finding): number {
  return SEVERITY[a.enforcement] - SEVERITY[b.enforcement] || cmp(a.rule, b.rule) || cmp(a.msg, b.msg);
}

export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The findings of every verdict without any. */
const NONE: readonly Finding[] = Object.freeze([]);

const MAX_MESSAGE = 1024;
const MAX_DETAILS = 8;
const MAX_DETAIL = 256;

function bounded(v: Finding): Finding {
  const details: Record<string, string> = {};
  if (v.details && typeof v.details === 'object' && !Array.isArray(v.details)) {
    for (const [k, x] of Object.entries(v.details)) {
      if (Object.keys(details).length === MAX_DETAILS) break;
      if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') details[clip(k, 63)] = clip(String(x), MAX_DETAIL);
    }
  }
  return { rule: v.rule, msg: clip(v.msg, MAX_MESSAGE), enforcement: v.enforcement, ...(Object.keys(details).length > 0 ? { details } : {}) };
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
