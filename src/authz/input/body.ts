import { parseQueryStrict } from './path.js';

export interface ParsedBody {
  parsed_body: unknown;
  truncated_body: boolean;
}

/** A body that claims a type it does not have; opa-envoy-plugin refuses the request with 400. */
export class BodyError extends Error {
  override name = 'BodyError';
}

/**
 * parsed_body and truncated_body as opa-envoy-plugin fills them: JSON and URL-encoded form bodies are parsed,
 * anything else is left to the policy as the raw `body` string. A body shorter than its Content-Length
 * (Envoy's max_request_bytes with allow_partial_message) is reported truncated and not parsed.
 */
export function parseBody(headers: Record<string, string> | undefined, body: string | undefined, rawBody: string | undefined): ParsedBody {
  const type = headers?.['content-type'];
  if (type === undefined) return NONE;
  const json = type.includes('application/json');
  const form = !json && type.includes('application/x-www-form-urlencoded');
  if (!json && !form) return NONE;
  let payload = body ?? '';
  // raw_body arrives as base64 in the JSON mapping.
  if (payload === '' && rawBody) payload = Buffer.from(rawBody, 'base64').toString('utf8');
  if (payload === '') return NONE;
  const length = headers?.['content-length'];
  if (length !== undefined) {
    if (!/^-?\d+$/.test(length.trim())) throw new BodyError(`invalid content-length ${JSON.stringify(length)}`);
    const declared = Number(length.trim());
    if (declared !== -1 && declared > Buffer.byteLength(payload)) return { parsed_body: null, truncated_body: true };
  }
  if (json) {
    try {
      return { parsed_body: JSON.parse(payload) as unknown, truncated_body: false };
    } catch (err) {
      throw new BodyError(`request body is not JSON: ${(err as Error).message}`);
    }
  }
  const parsed = parseQueryStrict(payload);
  if (!parsed) throw new BodyError('request body is not a valid URL-encoded form');
  return { parsed_body: parsed, truncated_body: false };
}

const NONE: ParsedBody = Object.freeze({ parsed_body: null, truncated_body: false });
