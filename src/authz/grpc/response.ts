import { RawNumber } from '../../policy/value/raw-number.js';
import type { Decision } from '../decision.js';

/** google.rpc.Code values the answers use. */
const OK = 0;
const PERMISSION_DENIED = 7;

interface HeaderValueOption {
  header: { key: string; value: string };
}

/**
 * The envoy.service.auth.v3.CheckResponse for a decision, as a plain object protobufjs encodes directly
 * (field names as in the .proto; google.protobuf types with protobufjs' own camelCase names). Mirrors
 * opa-envoy-plugin: a bare boolean result answers with the status alone; an object result adds the OK or
 * denied HTTP response; the decision id goes into dynamic metadata (except on a request that could not be
 * parsed, which the plugin answers without any).
 */
export function checkResponse(decision: Decision, decisionId: string): Record<string, unknown> {
  const response: Record<string, unknown> = {
    status: { code: decision.allowed ? OK : PERMISSION_DENIED, ...(decision.statusMessage ? { message: decision.statusMessage } : {}) },
  };
  if (!decision.withoutMetadata) response.dynamic_metadata = toStruct({ ...decision.dynamicMetadata, decision_id: decisionId });
  if (decision.allowed) {
    const hasChanges = decision.headers.length + decision.requestHeadersToRemove.length + decision.responseHeadersToAdd.length + decision.queryParametersToRemove.length + decision.queryParametersToSet.length > 0;
    if (!decision.bare || hasChanges) {
      response.ok_response = {
        headers: options(decision.headers),
        headers_to_remove: decision.requestHeadersToRemove,
        response_headers_to_add: options(decision.responseHeadersToAdd),
        query_parameters_to_remove: decision.queryParametersToRemove,
        query_parameters_to_set: decision.queryParametersToSet.map(([key, value]) => ({ key, value })),
      };
    }
  } else if (!decision.bare) {
    response.denied_response = {
      status: { code: decision.httpStatus },
      headers: options(decision.headers),
      body: decision.body ?? '',
    };
  }
  return response;
}

function options(headers: Array<[string, string]>): HeaderValueOption[] {
  return headers.map(([key, value]) => ({ header: { key, value } }));
}

/** A JSON object as google.protobuf.Struct. */
function toStruct(obj: Record<string, unknown>): { fields: Record<string, unknown> } {
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (v !== undefined) fields[k] = toValue(v);
  return { fields };
}

function toValue(v: unknown): Record<string, unknown> {
  if (v === null) return { nullValue: 0 };
  if (v instanceof RawNumber) return { numberValue: Number(v.text) };
  switch (typeof v) {
    case 'string':
      return { stringValue: v };
    case 'number':
      return { numberValue: v };
    case 'boolean':
      return { boolValue: v };
    case 'object':
      if (Array.isArray(v)) return { listValue: { values: v.map(toValue) } };
      return { structValue: toStruct(v as Record<string, unknown>) };
    default:
      return { stringValue: String(v) };
  }
}
