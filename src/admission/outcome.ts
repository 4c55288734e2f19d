import type { NamespaceInfo } from '../facts/facts.js';
import type { SidecarClaim } from './injection/injector.js';
import type { AdmissionRequest, AdmissionResponse } from './review.js';
import type { Violation } from './violations.js';

/** The policy input of DESIGN.md: the request as the API server sent it, and what is known around it. */
export interface PolicyInput {
  request: AdmissionRequest;
  /** `sidecar`: on /validate, for a new Pod that says it was injected, whether the injector confirms it. */
  context: { namespace: NamespaceInfo | null; cluster: { name: string; trustDomain: string }; sidecar?: SidecarClaim };
}

/** What one webhook call decided, before it is turned into the AdmissionReview answer, metrics and the audit event. */
export interface Outcome {
  response: Omit<AdmissionResponse, 'uid'>;
  decision: 'allow' | 'deny' | 'error';
  /** Why the decision is a failure rather than the policy's answer. */
  error?: string;
  /** The entrypoint evaluated, the audit event's `path`. */
  path: string;
  input?: PolicyInput;
  result?: unknown;
  violations: Violation[];
  /** Nanoseconds spent in the policy, by entrypoint. */
  evaluations: Array<{ entrypoint: string; ns: number }>;
}

/** Fail closed: the request is refused with a message that says what went wrong, and the event records it as an error. */
export function failure(path: string, message: string, input?: PolicyInput, evaluations: Outcome['evaluations'] = []): Outcome {
  return {
    response: { allowed: false, status: { status: 'Failure', code: 500, reason: 'InternalError', message: `Portcullis could not decide, so the request is refused: ${message}` } },
    decision: 'error',
    error: message,
    path,
    ...(input ? { input } : {}),
    violations: [],
    evaluations,
  };
}

/** A request the webhook understood but must refuse for what it asks (a bad annotation, a malformed object). */
export function badRequest(path: string, message: string, input?: PolicyInput): Outcome {
  return {
    response: { allowed: false, status: { status: 'Failure', code: 400, reason: 'BadRequest', message } },
    decision: 'deny',
    path,
    ...(input ? { input } : {}),
    result: { allowed: false, reason: message },
    violations: [],
    evaluations: [],
  };
}

export function nowNs(): bigint {
  return process.hrtime.bigint();
}
