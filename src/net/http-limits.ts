import type { IncomingMessage, Server as HttpServer, ServerOptions } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { Type } from 'typebox';

/**
 * How long a client may take and how many it may be, for one HTTP listener: the settings of Node's HTTP
 * server that keep slow or idle clients from holding connections (slowloris), with defaults chosen per
 * listener for its clients (the API server, Envoy and nginx, probes and operators).
 */
export function httpConnections(defaults: HttpConnections, what: string) {
  return Type.Object(connectionProperties(defaults), { default: {}, additionalProperties: false, description: `connection limits of ${what}` });
}

/** The same for a TLS listener, which also bounds the handshake. */
export function httpsConnections(defaults: HttpConnections & { handshakeTimeoutMs: number }, what: string) {
  return Type.Object(
    { ...connectionProperties(defaults), handshakeTimeoutMs: Type.Integer({ minimum: 100, default: defaults.handshakeTimeoutMs, description: 'to complete the TLS handshake' }) },
    { default: {}, additionalProperties: false, description: `connection limits of ${what}` },
  );
}

function connectionProperties(defaults: HttpConnections) {
  return {
    headersTimeoutMs: Type.Integer({ minimum: 100, default: defaults.headersTimeoutMs, description: 'from the connection (or the end of the previous request) to the end of the headers' }),
    requestTimeoutMs: Type.Integer({ minimum: 100, default: defaults.requestTimeoutMs, description: 'from the start of a request to the end of its body; at least headersTimeoutMs' }),
    keepAliveTimeoutMs: Type.Integer({ minimum: 0, default: defaults.keepAliveTimeoutMs, description: 'an idle keep-alive connection is closed after this (0: after each response)' }),
    idleTimeoutMs: Type.Integer({
      minimum: 1000,
      default: defaults.idleTimeoutMs,
      description: 'a connection on which nothing moves for this long is closed, whatever it is doing (a client that does not read its answer)',
    }),
    maxConnections: Type.Integer({ minimum: 1, default: defaults.maxConnections, description: 'open connections at once; more are closed as they arrive' }),
    maxHeaders: Type.Integer({ minimum: 16, maximum: 10_000, default: defaults.maxHeaders, description: 'header fields of one request; more is refused with 431' }),
  };
}

export interface HttpConnections {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  idleTimeoutMs: number;
  maxConnections: number;
  maxHeaders: number;
}
export type HttpConnectionsConfig = HttpConnections & { handshakeTimeoutMs?: number };

/** How often Node checks the headers and request timeouts (its default, 30 s, would let them run over by as much). */
const CHECK_INTERVAL_MS = 1000;

/** The options to create the server with (the TLS handshake timeout and the timeout checks can only be set there). */
export function serverOptions(limits: HttpConnectionsConfig): ServerOptions & { handshakeTimeout?: number } {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: CHECK_INTERVAL_MS,
    ...(limits.handshakeTimeoutMs !== undefined ? { handshakeTimeout: limits.handshakeTimeoutMs } : {}),
  };
}

/** What the server's options cannot hold: the connection bound and the inactivity timeout. */
export function limitConnections(server: HttpServer | HttpsServer, limits: HttpConnectionsConfig): void {
  server.maxConnections = limits.maxConnections;
  // One more than allowed, so that a request past the limit is told apart from one at it (tooManyHeaders).
  server.maxHeadersCount = limits.maxHeaders + 1;
  // With no 'timeout' listener on the server, Node destroys a socket inactive this long.
  server.timeout = limits.idleTimeoutMs;
}

/**
 * Node keeps the first maxHeadersCount header fields and drops the rest without a word, so a request
 * with more than the limit reaches the handler cut short: that is refused (431), never judged on part of
 * its headers.
 */
export function tooManyHeaders(req: IncomingMessage, limits: HttpConnectionsConfig): boolean {
  return req.rawHeaders.length / 2 > limits.maxHeaders;
}
