import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { AuthzConfig } from '../config.js';
import type { CheckRequestJson, HttpAttributes } from '../input/attributes.js';
import { timestamp } from '../input/protomap.js';

/**
 * The CheckRequest (as opa-envoy-plugin's input holds it) Envoy's gRPC mode would have sent for an
 * HTTP-mode check, so both modes give the policy the same document. Envoy's HTTP mode sends the original
 * method, path (after its path_prefix) and headers; nginx auth_request sends its own GET for the URI with
 * the original one in a header, which is read instead when present.
 */
export function checkRequestFromHttp(req: IncomingMessage, body: Buffer, config: AuthzConfig['http']): CheckRequestJson {
  const headers = flatten(req.headers);
  const originalUri = headers[config.originalUriHeader];
  let path: string;
  let method: string;
  if (originalUri !== undefined) {
    path = originalUri;
    method = headers[config.originalMethodHeader] ?? req.method ?? 'GET';
  } else {
    path = req.url ?? '/';
    if (config.pathPrefix && path.startsWith(config.pathPrefix)) path = path.slice(config.pathPrefix.length) || '/';
    method = req.method ?? 'GET';
  }
  const http: HttpAttributes = { method, headers, path, protocol: `HTTP/${req.httpVersion}` };
  if (headers['x-request-id']) http.id = headers['x-request-id'];
  if (headers.host) http.host = headers.host;
  const scheme = headers['x-forwarded-proto'];
  if (scheme) http.scheme = scheme;
  if (body.length > 0) {
    http.body = body.toString('utf8');
    http.size = body.length;
  }
  return {
    attributes: {
      source: { address: { socketAddress: socket(req.socket.remoteAddress, req.socket.remotePort) } },
      destination: { address: { socketAddress: socket(req.socket.localAddress, req.socket.localPort) } },
      request: { time: timestamp(performance.timeOrigin + performance.now()), http },
    },
  };
}

/** Header names lower-case (Node already does), repeated headers joined with "," as Envoy joins them. */
function flatten(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    out[k] = Array.isArray(v) ? v.join(',') : v;
  }
  return out;
}

function socket(address: string | undefined, port: number | undefined): { address?: string; portValue?: number } {
  const out: { address?: string; portValue?: number } = {};
  // Dual-stack sockets report IPv4 peers as ::ffff:a.b.c.d; Envoy reports the IPv4 address.
  if (address) out.address = address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
  if (port) out.portValue = port;
  return out;
}
