import { readRateLimit, type RateLimit } from './rate-limit.js';

/** A policy result read the way opa-envoy-plugin reads it, plus Portcullis' reason and rate_limit. */
export interface Decision {
  allowed: boolean;
  /** The result was a bare boolean: the gRPC answer then carries only a status, as opa-envoy-plugin's. */
  bare: boolean;
  /** For a denial; 200 when allowed. */
  httpStatus: number;
  /** `headers`: sent upstream when allowed, to the client when denied. */
  headers: Array<[string, string]>;
  responseHeadersToAdd: Array<[string, string]>;
  requestHeadersToRemove: string[];
  queryParametersToRemove: string[];
  body?: string;
  dynamicMetadata?: Record<string, unknown>;
  reason: string;
  rateLimit?: RateLimit;
}

/** A result the answer cannot be built from: handled like any other failure of the decision. */
export class DecisionError extends Error {
  override name = 'DecisionError';
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const UNSAFE_VALUE = /[\0\r\n]/;

/** HTTP statuses Envoy's type.v3.StatusCode can carry; opa-envoy-plugin refuses the others. */
const ENVOY_STATUSES = new Set([
  100, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 307, 308, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411,
  412, 413, 414, 415, 416, 417, 421, 422, 423, 424, 426, 428, 429, 431, 500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511,
]);

export function readDecision(result: unknown): Decision {
  if (typeof result === 'boolean') {
    return { allowed: result, bare: true, httpStatus: result ? 200 : 403, headers: [], responseHeadersToAdd: [], requestHeadersToRemove: [], queryParametersToRemove: [], reason: result ? 'allowed' : 'denied' };
  }
  if (result === undefined) throw new DecisionError('the policy decision is undefined');
  if (typeof result !== 'object' || result === null || Array.isArray(result)) throw new DecisionError(`illegal value for policy evaluation result: ${JSON.stringify(result)}`);
  const r = result as Record<string, unknown>;
  if (!('allowed' in r)) throw new DecisionError('unable to determine evaluation result due to missing "allowed" key');
  if (typeof r.allowed !== 'boolean') throw new DecisionError('"allowed" is not a boolean');
  const allowed = r.allowed;
  const d: Decision = {
    allowed,
    bare: false,
    httpStatus: allowed ? 200 : status(r.http_status),
    headers: headerList(r.headers, 'headers'),
    responseHeadersToAdd: headerList(r.response_headers_to_add, 'response_headers_to_add'),
    requestHeadersToRemove: names(r.request_headers_to_remove, 'request_headers_to_remove'),
    queryParametersToRemove: strings(r.query_parameters_to_remove, 'query_parameters_to_remove'),
    reason: typeof r.reason === 'string' ? r.reason : allowed ? 'allowed' : 'denied',
  };
  if (r.body !== undefined) {
    if (typeof r.body !== 'string') throw new DecisionError('"body" is not a string');
    d.body = r.body;
  }
  if (r.dynamic_metadata !== undefined) {
    if (typeof r.dynamic_metadata !== 'object' || r.dynamic_metadata === null || Array.isArray(r.dynamic_metadata)) throw new DecisionError('"dynamic_metadata" is not an object');
    d.dynamicMetadata = r.dynamic_metadata as Record<string, unknown>;
  }
  try {
    const limit = readRateLimit(r.rate_limit);
    if (limit) d.rateLimit = limit;
  } catch (err) {
    throw new DecisionError((err as Error).message);
  }
  return d;
}

function status(v: unknown): number {
  if (v === undefined) return 403;
  if (typeof v !== 'number' || !Number.isInteger(v) || !ENVOY_STATUSES.has(v)) throw new DecisionError(`invalid HTTP status code ${JSON.stringify(v)}`);
  return v;
}

/** An object of name → value, or a list of such objects (several values for one name). */
function headerList(v: unknown, field: string): Array<[string, string]> {
  if (v === undefined) return [];
  const out: Array<[string, string]> = [];
  const take = (o: unknown) => {
    if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new DecisionError(`"${field}" must be an object or a list of objects`);
    for (const [k, x] of Object.entries(o)) {
      if (typeof x !== 'string') throw new DecisionError(`"${field}.${k}" is not a string`);
      if (!TOKEN.test(k) || UNSAFE_VALUE.test(x)) throw new DecisionError(`"${field}" has an invalid header ${JSON.stringify(k)}`);
      out.push([k, x]);
    }
  };
  if (Array.isArray(v)) v.forEach(take);
  else take(v);
  return out;
}

function strings(v: unknown, field: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new DecisionError(`"${field}" must be a list of strings`);
  return v as string[];
}

function names(v: unknown, field: string): string[] {
  const list = strings(v, field);
  for (const n of list) if (!TOKEN.test(n)) throw new DecisionError(`"${field}" has an invalid header name ${JSON.stringify(n)}`);
  return list;
}
