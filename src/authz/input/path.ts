import { GoUrlError, parseQuery, unescape } from '../../policy/value/go-url.js';

/**
 * parsed_path and parsed_query exactly as opa-envoy-plugin computes them (envoyauth/request.go): the path
 * is cut at the first "?" (nothing else is special: a "#" or a leading "//" stays in the path), the part
 * before it percent-decoded as Go's url.PathUnescape ("+" stays "+"), left "/"s trimmed and split on "/";
 * the query read by Go's url.ParseQuery. Anything Go refuses is a RequestParseError with Go's message,
 * which opa-envoy-plugin answers with 400 request_parse_error.
 */
export interface ParsedPath {
  parsed_path: string[];
  parsed_query: Record<string, string[]>;
}

/** A request opa-envoy-plugin cannot turn into an input; the message is the Go error it reports. */
export class RequestParseError extends Error {
  override name = 'RequestParseError';
}

export function parsePath(raw: string): ParsedPath {
  const q = raw.indexOf('?');
  const rawPath = q < 0 ? raw : raw.slice(0, q);
  const rawQuery = q < 0 ? '' : raw.slice(q + 1);
  try {
    const path = unescape(rawPath, false);
    let i = 0;
    while (path.charCodeAt(i) === 0x2f) i++;
    return { parsed_path: path.slice(i).split('/'), parsed_query: parseQuery(rawQuery) };
  } catch (err) {
    if (err instanceof GoUrlError) throw new RequestParseError(err.message);
    throw err;
  }
}

/** url.ParseQuery, its error a RequestParseError. */
export function parseQueryOrRefuse(raw: string): Record<string, string[]> {
  try {
    return parseQuery(raw);
  } catch (err) {
    if (err instanceof GoUrlError) throw new RequestParseError(err.message);
    throw err;
  }
}

