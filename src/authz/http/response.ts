import type { ServerResponse } from 'node:http';
import type { Decision } from '../decision.js';

/** Envoy's HTTP mode: the authorization server names request headers to drop in this response header. */
const HEADERS_TO_REMOVE = 'x-envoy-auth-headers-to-remove';

/**
 * Writes the decision the way Envoy's HTTP ext_authz mode and nginx auth_request read it. Allowed: 200 with
 * the headers to add upstream (and those for the client, which Envoy picks with
 * allowed_client_headers_on_success), the headers to remove listed in x-envoy-auth-headers-to-remove.
 * Denied: the policy's status, headers and body, which Envoy returns to the client as they are.
 */
export function writeDecision(res: ServerResponse, decision: Decision, decisionId: string): void {
  res.setHeader('x-portcullis-decision-id', decisionId);
  if (decision.allowed) {
    for (const [k, v] of decision.headers) res.appendHeader(k, v);
    for (const [k, v] of decision.responseHeadersToAdd) res.appendHeader(k, v);
    if (decision.requestHeadersToRemove.length > 0) res.setHeader(HEADERS_TO_REMOVE, decision.requestHeadersToRemove.join(','));
    res.writeHead(200);
    res.end();
    return;
  }
  for (const [k, v] of decision.headers) res.appendHeader(k, v);
  const body = decision.body ?? '';
  res.setHeader('content-length', Buffer.byteLength(body));
  res.writeHead(decision.httpStatus);
  res.end(body);
}
