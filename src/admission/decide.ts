import { randomUUID } from 'node:crypto';
import type { AdmissionSummary } from '../audit/event.js';
import type { Masker, SerializedInput } from '../audit/mask.js';
import type { NamespaceInfo } from '../facts/facts.js';
import type { Snapshot } from '../policy/engine.js';
import type { Injector } from './injection/injector.js';
import { checkLimits, type ReviewLimits } from './limits.js';
import { mutate, type MutateEntrypoints } from './mutate.js';
import { failure, type Outcome, type PolicyInput } from './outcome.js';
import { API_VERSION, dropManagedFields, parseReview, ReviewError, type AdmissionRequest } from './review.js';
import { validate } from './validate.js';

export type Webhook = 'validate' | 'mutate';

/** What a webhook decision needs; the same whether it runs on the main thread or in a decision worker. */
export interface DecideDeps {
  snapshot: Snapshot;
  injector: Injector;
  /**
   * The namespace as known here: null when it does not exist, undefined when only the API server can tell
   * (informers behind it). decide() then hands the review back to be decided again once it was asked.
   */
  namespace(name: string): NamespaceInfo | null | undefined;
  cluster: PolicyInput['context']['cluster'];
  entrypoints: { validate: string } & MutateEntrypoints;
  dropManagedFields: boolean;
  /** admission.maxJsonDepth: a review nested deeper is malformed, refused before anything walks it recursively. */
  maxJsonDepth: number;
  /** admission.limits: a request beyond them is refused (413) before the policy sees it. */
  limits: ReviewLimits;
  /** Told who the request is once it passed the limits, before the policy runs (a worker publishes it for the deadline's answer). */
  parsed?(request: RequestSummary): void;
  /** Masks and serializes the input for the audit event here, where the input object already is; none when audit.includeInput is false. */
  masker: Masker | undefined;
}

/** The audit summary of the request, less what only the decision knows (webhook, allowed, rules). */
export type RequestSummary = Omit<AdmissionSummary, 'webhook' | 'allowed' | 'rules'>;

/**
 * One webhook call from body to outcome: parse, facts, policy, answer. Only plain data goes in and out, so
 * it can run in a worker thread (src/admission/workers.ts).
 */
export type Decision =
  /** Not an AdmissionReview that can be decided; answered in kind when it has a uid, else with a 400. */
  | { kind: 'malformed'; decisionId: string; message: string; uid?: string; status?: { code: number; reason: string }; bundles: Snapshot['bundles'] }
  | {
      kind: 'decided';
      decisionId: string;
      /** The AdmissionReview answer, serialized where it was made. */
      reply: string;
      request: RequestSummary;
      /** What metrics and the audit event need; the input travels serialized, in `input`. */
      outcome: Omit<Outcome, 'input' | 'response'> & { allowed: boolean };
      input?: SerializedInput;
      bundles: Snapshot['bundles'];
      /** Set when the policy or the injection threw: the outcome is a failure, and the caller logs this. */
      internalError?: string;
    };

/**
 * The namespace of a review was unknown here: the caller reads it from the API server and decides again
 * with the same body (handed back, as a worker took it) and the outcome of that read.
 */
export interface UnknownNamespace {
  kind: 'unknown-namespace';
  namespace: string;
  body: Uint8Array;
}

/** A second pass after an unknown namespace was read: a namespace still unknown does not exist, or could not be read. */
export interface NamespaceRead {
  /** Why the namespace could not be read: the decision fails closed. */
  error?: string;
}

/** `body` is the request body as received: its bytes cross to a worker thread without a copy. */
export function decide(webhook: Webhook, body: Uint8Array, deps: DecideDeps, read?: NamespaceRead): Decision | UnknownNamespace {
  const { snapshot } = deps;
  const decisionId = randomUUID();
  let request: AdmissionRequest;
  try {
    let review: unknown;
    try {
      review = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
    } catch (err) {
      throw new ReviewError(`the body is not valid JSON: ${(err as Error).message}`);
    }
    request = parseReview(review);
    if (deps.dropManagedFields) dropManagedFields(request);
    checkLimits(request, deps.limits, deps.maxJsonDepth);
  } catch (err) {
    if (!(err instanceof ReviewError)) throw err;
    return { kind: 'malformed', decisionId, message: err.message, ...(err.uid ? { uid: err.uid } : {}), ...(err.status ? { status: err.status } : {}), bundles: snapshot.bundles };
  }
  let namespace = request.namespace ? deps.namespace(request.namespace) : null;
  if (namespace === undefined) {
    if (!read) return { kind: 'unknown-namespace', namespace: request.namespace ?? '', body };
    namespace = null;
  }
  const summary = summarize(request);
  deps.parsed?.(summary);
  let input: PolicyInput = { request, context: { namespace, cluster: deps.cluster } };
  let serialized: SerializedInput | undefined;
  let outcome: Outcome;
  let internalError: string | undefined;
  // A throw while serializing or deciding fails this decision closed, answered with the uid rather than a bare 500.
  try {
    if (webhook === 'validate') input = deps.injector.withClaim(input);
    // Serialized once for the audit event and, when masking changed nothing, for the policy too.
    serialized = deps.masker?.serialize(input);
    const inputJson = serialized?.masked.length === 0 ? serialized.json : undefined;
    outcome =
      read?.error !== undefined && namespace === null
        ? failure(deps.entrypoints[webhook], `namespace "${request.namespace}" is not known yet and could not be read from the API server: ${read.error}`, input)
        : webhook === 'validate'
          ? validate(snapshot, deps.entrypoints.validate, input, inputJson)
          : mutate(snapshot, deps.entrypoints, deps.injector, input);
  } catch (err) {
    internalError = (err as Error).stack ?? String(err);
    outcome = failure(deps.entrypoints[webhook], `internal error: ${(err as Error).message}`, input);
  }
  const { decision, error, path, result, violations, evaluations } = outcome;
  const response = { ...outcome.response, uid: request.uid, auditAnnotations: { ...outcome.response.auditAnnotations, 'decision-id': decisionId } };
  return {
    kind: 'decided',
    decisionId,
    reply: JSON.stringify({ apiVersion: API_VERSION, kind: 'AdmissionReview', response }),
    request: summary,
    outcome: { allowed: response.allowed, decision, path, violations, evaluations, ...(error !== undefined ? { error } : {}), ...(result !== undefined ? { result } : {}) },
    ...(outcome.input && serialized ? { input: serialized } : {}),
    bundles: snapshot.bundles,
    ...(internalError ? { internalError } : {}),
  };
}

function summarize(request: AdmissionRequest): RequestSummary {
  const object = (request.object ?? request.oldObject) as { metadata?: { name?: unknown; generateName?: unknown } } | undefined;
  const name = request.name || (typeof object?.metadata?.name === 'string' ? object.metadata.name : '') || (typeof object?.metadata?.generateName === 'string' ? object.metadata.generateName : '');
  return {
    uid: request.uid,
    kind: `${request.kind.group ? `${request.kind.group}/` : ''}${request.kind.kind}`,
    namespace: request.namespace ?? '',
    name,
    operation: request.operation,
    user: request.userInfo.username ?? '',
    dry_run: request.dryRun === true,
  };
}
