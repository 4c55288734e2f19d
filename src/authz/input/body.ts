import { GoJsonError, parseGoJson } from '../../policy/value/go-json.js';
import { goQuoteString } from '../../policy/value/go-quote.js';
import { parseMediaType } from '../../policy/value/media-type.js';
import { readMultipart } from './multipart.js';
import { parseQueryOrRefuse, RequestParseError } from './path.js';

export interface ParsedBody {
  parsed_body: unknown;
  truncated_body: boolean;
}

/**
 * parsed_body and truncated_body as opa-envoy-plugin fills them (envoyauth/request.go): a body Envoy marked
 * partial (x-envoy-auth-partial-body: true) or shorter than its Content-Length is truncated and not
 * parsed; JSON (numbers kept as written), URL-encoded forms and multipart forms are parsed by content type
 * (a substring match, as there); anything else is left to the policy as the raw `body`. `rawBody` (Envoy's
 * pack_as_bytes) stands in for an empty `body`. What Go refuses is a RequestParseError with Go's message.
 */
export function parseBody(headers: Record<string, string> | undefined, body: string | undefined, rawBody: string | undefined): ParsedBody {
  if (headers?.['x-envoy-auth-partial-body'] === 'true') return TRUNCATED;
  const type = headers?.['content-type'];
  if (type === undefined) return NONE;
  const json = type.includes('application/json');
  const form = !json && !type.includes('application/grpc') && type.includes('application/x-www-form-urlencoded');
  const multipart = !json && !form && !type.includes('application/grpc') && type.includes('multipart/form-data');
  if (!json && !form && !multipart) return NONE;
  const bytes = body ? Buffer.from(body) : rawBody ? Buffer.from(rawBody, 'base64') : undefined;
  if (!bytes || bytes.length === 0) return NONE;
  const length = headers?.['content-length'];
  if (length !== undefined && truncated(length, bytes.length)) return TRUNCATED;
  if (json) return { parsed_body: goJson(bytes.toString('utf8')), truncated_body: false };
  if (form) return { parsed_body: parseQueryOrRefuse(bytes.toString('utf8')), truncated_body: false };
  let media;
  try {
    media = parseMediaType(type);
  } catch (err) {
    throw new RequestParseError((err as Error).message);
  }
  const boundary = media.params.boundary;
  if (boundary === undefined) return NONE;
  const values: Record<string, unknown[]> = {};
  try {
    for (const part of readMultipart(bytes, boundary)) {
      const value = part.contentType.includes('application/json') ? goJson(part.value.toString('utf8')) : part.value.toString('utf8');
      (values[part.name] ??= []).push(value);
    }
  } catch (err) {
    if (err instanceof RequestParseError) throw err;
    throw new RequestParseError((err as Error).message);
  }
  return { parsed_body: values, truncated_body: false };
}

function goJson(text: string): unknown {
  try {
    return parseGoJson(text);
  } catch (err) {
    if (err instanceof GoJsonError) throw new RequestParseError(err.message);
    throw err;
  }
}

/** checkIfHTTPBodyTruncated: strconv.ParseInt of the header, -1 meaning unknown. */
function truncated(contentLength: string, bodyLength: number): boolean {
  if (!/^[+-]?[0-9]+$/.test(contentLength)) throw new RequestParseError(`strconv.ParseInt: parsing ${goQuoteString(contentLength)}: invalid syntax`);
  const n = BigInt(contentLength);
  if (n > 9223372036854775807n || n < -9223372036854775808n) throw new RequestParseError(`strconv.ParseInt: parsing ${goQuoteString(contentLength)}: value out of range`);
  return n !== -1n && n > BigInt(bodyLength);
}

const NONE: ParsedBody = Object.freeze({ parsed_body: null, truncated_body: false });
const TRUNCATED: ParsedBody = Object.freeze({ parsed_body: null, truncated_body: true });
