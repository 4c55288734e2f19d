import type { SerializedInput } from './mask.js';

/**
 * One decision, shaped like an OPA decision log event so existing consumers can read it, plus the
 * Portcullis fields: `kind`, a per-front-door summary, and the hash chain that makes edits detectable.
 */
export interface DecisionEvent {
  decision_id: string;
  /** RFC 3339 with nanoseconds, as OPA writes it. */
  timestamp: string;
  /** The entrypoint evaluated, e.g. "portcullis/admission/violations". */
  path: string;
  /** The policy input, masked before it is written anywhere. */
  input?: unknown;
  result?: unknown;
  /** Revision of every active bundle, as OPA's `bundles` field. */
  bundles: Record<string, { revision: string }>;
  labels: Record<string, string>;
  /** Timings in nanoseconds, named as OPA names them (timer_rego_eval_ns, timer_server_handler_ns). */
  metrics: Record<string, number>;
  kind: 'admission' | 'authz' | 'posture' | 'sds' | 'node';
  /** "allow", "deny" or "error": the outcome, for filtering without reading `result`. */
  decision: 'allow' | 'deny' | 'error';
  /** Set when the decision came from a failure (malformed request, policy error, timeout), not from the policy. */
  error?: string;
  admission?: AdmissionSummary;
  authz?: AuthzSummary;
  posture?: PostureSummary;
  sds?: SdsSummary;
  node?: NodeRedirectSummary;
  /** JSON pointers of input fields replaced by "**REDACTED**", as OPA's `masked`. */
  masked?: string[];
  seq?: number;
  prev_hash?: string;
  hash?: string;
}

export interface AdmissionSummary {
  uid: string;
  kind: string;
  namespace: string;
  name: string;
  operation: string;
  user: string;
  /** The webhook that decided: "validate" or "mutate". */
  webhook: string;
  allowed: boolean;
  /** Ids of the rules that fired, whatever their enforcement. */
  rules: string[];
  dry_run: boolean;
}

export interface AuthzSummary {
  principal: string;
  method: string;
  path: string;
  status: number;
  reason: string;
  allowed: boolean;
  /** "grpc" or "http". */
  transport: string;
}

/** A change of an existing object's verdict, found by the posture audit (not a request: nothing was refused). */
export interface PostureSummary {
  uid: string;
  kind: string;
  namespace: string;
  name: string;
  /** What the object is now: violating, compliant, error (could not be judged), deleted, or excluded (no longer audited). */
  verdict: 'violating' | 'compliant' | 'error' | 'deleted' | 'excluded';
  /** Ids of the rules it breaks now, and broke before this change. */
  rules: string[];
  previous_rules: string[];
}

/** A workload certificate asked for over SDS: who asked (as the API server vouched), and what was issued or why not. */
export interface SdsSummary {
  /** The SPIFFE ID issued, or that the token would have had; empty when the token said nothing. */
  spiffe_id: string;
  namespace: string;
  service_account: string;
  pod: string;
  /** The secret names the proxy asked for (default, ROOTCA). */
  resources: string[];
  /** The certificate issued: serial and expiry. */
  serial?: string;
  not_after?: string;
  reason: string;
}

/** The node agent installing a Pod's traffic redirect from the node (admission.injection.redirect: node). */
export interface NodeRedirectSummary {
  node: string;
  namespace: string;
  pod: string;
  uid: string;
  /** installed (rules put in place), refused (the Pod's injection is not confirmed), failed (could not). */
  result: 'installed' | 'refused' | 'failed';
  /** The network namespace's inode and the Pod's process the agent found in it, when found. */
  netns?: number;
  pid?: number;
  reason: string;
}

/** What a front door hands over; the audit log adds id, timestamp, labels, masking and the chain. */
export type DecisionRecord = Omit<DecisionEvent, 'decision_id' | 'timestamp' | 'labels' | 'masked' | 'seq' | 'prev_hash' | 'hash'> & {
  decision_id?: string;
  /** The input already masked and serialized (Masker.serialize), instead of `input`. */
  serializedInput?: SerializedInput;
};
