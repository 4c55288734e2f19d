import { RawNumber } from '../policy/value/raw-number.js';
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
  queryParametersToSet: Array<[string, string]>;
  body?: string;
  dynamicMetadata?: Record<string, unknown>;
  reason: string;
  rateLimit?: RateLimit;
  /** The gRPC status message, for answers Portcullis makes itself (a request it cannot parse). */
  statusMessage?: string;
  /** Answered without dynamic metadata, not even the decision id (opa-envoy-plugin's request_parse_error). */
  withoutMetadata?: boolean;
}

/** A result the answer cannot be built from: handled like any other failure of the decision. */
export class DecisionError extends Error {
  override name = 'DecisionError';
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const UNSAFE_VALUE = /[\0\r\n]/;

/** HTTP statuses both Go's net/http and Envoy's type.v3.StatusCode know; opa-envoy-plugin refuses the others. */
const ENVOY_STATUSES = new Set([
  100, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 307, 308, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411,
  412, 413, 414, 415, 416, 417, 421, 422, 423, 424, 426, 428, 429, 431, 500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511,
]);

export function emptyDecision(allowed: boolean, httpStatus: number): Decision {
  return { allowed, bare: false, httpStatus, headers: [], responseHeadersToAdd: [], requestHeadersToRemove: [], queryParametersToRemove: [], queryParametersToSet: [], reason: '' };
}

/**
 * Reads a result as opa-envoy-plugin's check does (internal.go with envoyauth/response.go), in its order
 * and with its types: a boolean, or an object with a boolean `allowed`; `headers` and `dynamic_metadata`
 * for either outcome; when allowed the request changes (`request_headers_to_remove`,
 * `response_headers_to_add`, `query_parameters_to_remove`, `query_parameters_to_set`), when denied
 * `body` and `http_status`. A field of the wrong type fails the decision only where the plugin reads it.
 */
export function readDecision(result: unknown): Decision {
  if (typeof result === 'boolean') return { ...emptyDecision(result, result ? 200 : 403), bare: true, reason: result ? 'allowed' : 'denied' };
  if (result === undefined) throw new DecisionError('undefined decision');
  if (typeof result !== 'object' || result === null || Array.isArray(result) || result instanceof RawNumber) throw new DecisionError(`illegal value for policy evaluation result: ${JSON.stringify(result)}`);
  const r = result as Record<string, unknown>;
  if (!('allowed' in r)) throw new DecisionError('unable to determine evaluation result due to missing "allowed" key');
  if (typeof r.allowed !== 'boolean') throw new DecisionError('"allowed" is not a boolean');
  const d = emptyDecision(r.allowed, 200);
  d.reason = typeof r.reason === 'string' ? r.reason : d.allowed ? 'allowed' : 'denied';
  d.headers = headerList(r.headers, 'headers');
  if (r.dynamic_metadata !== undefined) d.dynamicMetadata = metadata(r.dynamic_metadata);
  if (d.allowed) {
    d.requestHeadersToRemove = strings(r.request_headers_to_remove, 'request_headers_to_remove');
    for (const n of d.requestHeadersToRemove) if (!TOKEN.test(n)) throw new DecisionError(`"request_headers_to_remove" has an invalid header name ${JSON.stringify(n)}`);
    d.responseHeadersToAdd = headerList(r.response_headers_to_add, 'response_headers_to_add');
    d.queryParametersToRemove = strings(r.query_parameters_to_remove, 'query_parameters_to_remove');
    d.queryParametersToSet = queryParameters(r.query_parameters_to_set);
    try {
      const limit = readRateLimit(r.rate_limit);
      if (limit) d.rateLimit = limit;
    } catch (err) {
      throw new DecisionError((err as Error).message);
    }
  } else {
    if (r.body !== undefined) {
      if (typeof r.body !== 'string') throw new DecisionError('"body" is not a string');
      d.body = r.body;
    }
    d.httpStatus = status(r.http_status);
  }
  return d;
}

/** json.Number.Int64 of the status, which Go and Envoy must both name. */
function status(v: unknown): number {
  if (v === undefined) return 403;
  const text = typeof v === 'number' ? JSON.stringify(v) : v instanceof RawNumber ? v.text : undefined;
  if (text === undefined) throw new DecisionError(`http_status is not a number: ${JSON.stringify(v)}`);
  if (!/^-?\d+$/.test(text)) throw new DecisionError(`error converting JSON number to int: ${text}`);
  const n = Number(text);
  if (!ENVOY_STATUSES.has(n)) throw new DecisionError(`invalid HTTP status code ${text}`);
  return n;
}

/** An object of name → value or list of values, or a list of such objects. */
function headerList(v: unknown, field: string): Array<[string, string]> {
  if (v === undefined) return [];
  const out: Array<[string, string]> = [];
  const add = (k: string, x: unknown) => {
    if (typeof x !== 'string') throw new DecisionError(`"${field}.${k}" is not a string`);
    // Portcullis' own check, not the plugin's: a header Envoy would refuse or that could split a response.
    if (!TOKEN.test(k) || UNSAFE_VALUE.test(x)) throw new DecisionError(`"${field}" has an invalid header ${JSON.stringify(k)}`);
    out.push([k, x]);
  };
  const take = (o: unknown) => {
    if (typeof o !== 'object' || o === null || Array.isArray(o) || o instanceof RawNumber) throw new DecisionError(`"${field}" must be an object or a list of objects`);
    for (const [k, x] of Object.entries(o)) {
      if (Array.isArray(x)) for (const each of x) add(k, each);
      else add(k, x);
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

function queryParameters(v: unknown): Array<[string, string]> {
  if (v === undefined) return [];
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof RawNumber) throw new DecisionError('"query_parameters_to_set" must be an object');
  const out: Array<[string, string]> = [];
  for (const [k, x] of Object.entries(v)) {
    if (typeof x === 'string') out.push([k, x]);
    else if (Array.isArray(x)) {
      for (const each of x) {
        if (typeof each !== 'string') throw new DecisionError(`"query_parameters_to_set.${k}" must hold strings`);
        out.push([k, each]);
      }
    } else throw new DecisionError(`"query_parameters_to_set.${k}" must be a string or a list of strings`);
  }
  return out;
}

/** structpb.NewStruct's conditions: an object whose numbers are finite doubles. */
function metadata(v: unknown): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof RawNumber) throw new DecisionError('"dynamic_metadata" is not an object');
  const check = (x: unknown): void => {
    if (x instanceof RawNumber) {
      if (!Number.isFinite(Number(x.text))) throw new DecisionError(`invalid number format ${JSON.stringify(x.text)}, expected a float64`);
    } else if (Array.isArray(x)) x.forEach(check);
    else if (typeof x === 'object' && x !== null) Object.values(x).forEach(check);
  };
  check(v);
  return v as Record<string, unknown>;
}
