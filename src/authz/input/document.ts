import type { CheckAttributes, CheckRequestJson, HttpAttributes } from './attributes.js';
import { BodyError, parseBody } from './body.js';
import { parsePath, PathError } from './path.js';

/** A CheckRequest no answer can be computed for (no HTTP attributes, unparsable path or body): answered 400, or 413 when too large. */
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
  mesh?: unknown;
}

const VERSION = Object.freeze({ encoding: 'protojson', ext_authz: 'v3' } as const);

export function envoyInput(check: CheckRequestJson): EnvoyInput {
  const http = check.attributes?.request?.http;
  if (typeof http !== 'object' || http === null) throw new InputError('missing required attributes in v3 CheckRequest');
  try {
    const { parsed_path, parsed_query } = parsePath(http.path ?? '');
    const { parsed_body, truncated_body } = parseBody(http.headers, http.body, http.rawBody);
    // A CheckRequest has no field but attributes.
    return { attributes: check.attributes as EnvoyInput['attributes'], version: VERSION, parsed_path, parsed_query, parsed_body, truncated_body };
  } catch (err) {
    if (err instanceof PathError) throw new InputError(`error parsing path and query: ${err.message}`);
    if (err instanceof BodyError) throw new InputError(`error parsing request body: ${err.message}`);
    throw err;
  }
}
