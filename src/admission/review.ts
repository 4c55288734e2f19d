import type { ErrorObject } from 'ajv';
import { Type, type Static } from 'typebox';
import { schemaValidator } from '../schema/validator.js';

/**
 * The AdmissionReview admission.k8s.io/v1 request as the API server sends it, checked once where it enters:
 * past parseReview every field the webhook reads has the type declared here. The objects themselves stay
 * open (`additionalProperties`), the policy judges them.
 */
const GroupVersionKind = Type.Object({ group: Type.String(), version: Type.String(), kind: Type.String({ minLength: 1 }) });
const GroupVersionResource = Type.Object({ group: Type.String(), version: Type.String(), resource: Type.String() });
const KubeObject = Type.Record(Type.String(), Type.Unknown());

export const Operations = ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'] as const;

export const AdmissionRequest = Type.Object({
  uid: Type.String({ minLength: 1 }),
  kind: GroupVersionKind,
  resource: GroupVersionResource,
  subResource: Type.Optional(Type.String()),
  requestKind: Type.Optional(GroupVersionKind),
  requestResource: Type.Optional(GroupVersionResource),
  requestSubResource: Type.Optional(Type.String()),
  name: Type.Optional(Type.String()),
  namespace: Type.Optional(Type.String()),
  operation: Type.Enum(Operations),
  userInfo: Type.Object({
    username: Type.Optional(Type.String()),
    uid: Type.Optional(Type.String()),
    groups: Type.Optional(Type.Array(Type.String())),
    extra: Type.Optional(Type.Record(Type.String(), Type.Array(Type.String()))),
  }),
  object: Type.Optional(Type.Union([KubeObject, Type.Null()])),
  oldObject: Type.Optional(Type.Union([KubeObject, Type.Null()])),
  dryRun: Type.Optional(Type.Boolean()),
  options: Type.Optional(Type.Union([KubeObject, Type.Null()])),
});
export type AdmissionRequest = Static<typeof AdmissionRequest>;
export type KubeObject = Static<typeof KubeObject>;

export const API_VERSION = 'admission.k8s.io/v1';
const MAX_UID = 256;

const Review = Type.Object({ apiVersion: Type.Literal(API_VERSION), kind: Type.Literal('AdmissionReview'), request: AdmissionRequest });

export interface Status {
  code: number;
  reason: string;
  message: string;
  status?: 'Failure';
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: Status;
  patch?: string;
  patchType?: 'JSONPatch';
  warnings?: string[];
  auditAnnotations?: Record<string, string>;
}

/** A request that is not an AdmissionReview v1 the webhook can answer; `uid` is set when the API server can still be answered in kind. */
export class ReviewError extends Error {
  constructor(
    message: string,
    readonly uid?: string,
    /** The answer's status when not 400 BadRequest (a review beyond admission.limits is 413). */
    readonly status?: { code: number; reason: string },
  ) {
    super(message);
    this.name = 'ReviewError';
  }
}

const validateReview = schemaValidator<Static<typeof Review>>(Review, { allErrors: true });

/** Checks the envelope and returns the request, typed; throws ReviewError with a message naming every problem. */
export function parseReview(body: unknown): AdmissionRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new ReviewError('the body must be a JSON object (an AdmissionReview)');
  const doc = body as { apiVersion?: unknown; kind?: unknown; request?: unknown };
  if (doc.kind !== 'AdmissionReview') throw new ReviewError(`kind must be "AdmissionReview", got ${describe(doc.kind)}`);
  if (doc.apiVersion !== API_VERSION) {
    throw new ReviewError(`apiVersion must be "${API_VERSION}", got ${describe(doc.apiVersion)}: list only v1 in the webhook's admissionReviewVersions`);
  }
  if (doc.request === null || typeof doc.request !== 'object') throw new ReviewError('request is missing: an AdmissionReview sent to a webhook carries a request');
  const uid = (doc.request as { uid?: unknown }).uid;
  if (typeof uid !== 'string' || uid === '') throw new ReviewError('request.uid is missing: it must be a non-empty string the response echoes');
  // The API server's uids are UUIDs; a longer one is not worth echoing.
  if (uid.length > MAX_UID) throw new ReviewError(`request.uid is ${uid.length} characters long: an API server's uid is a UUID (at most ${MAX_UID} characters are accepted)`);
  if (!validateReview(body)) throw new ReviewError(`malformed AdmissionReview: ${problems(validateReview.errors ?? [])}`, uid);
  const request = (body as Static<typeof Review>).request;
  checkObjectKind(request);
  return request;
}

/** The object must be of the kind the request announces (after matchPolicy conversion, the API server guarantees it). */
function checkObjectKind(request: AdmissionRequest): void {
  if (request.operation !== 'CREATE' && request.operation !== 'UPDATE') return;
  const object = request.object;
  if (!object) throw new ReviewError(`request.object is missing: a ${request.operation} carries the object`, request.uid);
  if (object.kind !== undefined && object.kind !== request.kind.kind) {
    throw new ReviewError(`request.object has kind ${describe(object.kind)} but request.kind says ${describe(request.kind.kind)}`, request.uid);
  }
}

function problems(errors: ErrorObject[]): string {
  // A union reports one error per branch; the first few name the problem well enough.
  const seen = new Set<string>();
  for (const e of errors) {
    const where = e.instancePath ? e.instancePath.slice(1).replaceAll('/', '.') : '(root)';
    const what = e.keyword === 'enum' || e.keyword === 'const' ? `${e.message} ${JSON.stringify(e.params)}` : e.message;
    seen.add(`${where} ${what}`);
    if (seen.size === 5) break;
  }
  return [...seen].join('; ');
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/**
 * Removes metadata.managedFields from the object and oldObject. No zero-trust rule reads them, and the
 * WebAssembly policy parses every byte of its input, so they would only cost time and audit log space.
 */
export function dropManagedFields(request: AdmissionRequest): void {
  for (const object of [request.object, request.oldObject]) {
    const metadata = (object as { metadata?: Record<string, unknown> } | null | undefined)?.metadata;
    if (metadata && typeof metadata === 'object') delete metadata.managedFields;
  }
}
