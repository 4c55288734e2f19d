import type { CheckAttributes, CheckRequestJson, HttpAttributes } from './attributes.js';
import { parseBody } from './body.js';
import { parsePath } from './path.js';

/** A request no input can be built for (bytes that are not a CheckRequest, a body over the limit): answered 400, or 413. */
export class InputError extends Error {
  override name = 'InputError';

  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** The input document of opa-envoy-plugin, so its policies run unchanged; Portcullis adds `mesh` beside it. */
export interface EnvoyInput {
  attributes: CheckAttributes & { request: { http: HttpAttributes } };
  version: { encoding: 'protojson'; ext_authz: 'v3' };
  parsed_path: string[];
  parsed_query: Record<string, string[]>;
  parsed_body: unknown;
  truncated_body: boolean;
  source_principal?: string;
  mesh?: unknown;
}

const VERSION = Object.freeze({ encoding: 'protojson', ext_authz: 'v3' } as const);

/**
 * RequestToInput of opa-envoy-plugin: the CheckRequest's attributes (a request without HTTP attributes
 * still gets an input, as there), `version`, the parsed path, query and body, and `source_principal`
 * when the source has one. A path, query or body Go refuses throws RequestParseError.
 */
export function envoyInput(check: CheckRequestJson): EnvoyInput {
  const http = check.attributes?.request?.http;
  const { parsed_path, parsed_query } = parsePath(http?.path ?? '');
  const { parsed_body, truncated_body } = parseBody(http?.headers, http?.body, http?.rawBody);
  const input = { attributes: check.attributes, version: VERSION, parsed_path, parsed_query, parsed_body, truncated_body } as EnvoyInput;
  if (check.attributes === undefined) delete (input as { attributes?: unknown }).attributes;
  const principal = check.attributes?.source?.principal;
  if (principal) input.source_principal = principal;
  return input;
}
