import { createServer, STATUS_CODES } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import { limitConnections, serverOptions, tooManyHeaders } from '../net/http-limits.js';
import { tokenMatches } from './admin-token.js';
import type { Context, Listener } from './context.js';

export interface AdminOptions {
  token: string | undefined;
  /** Whether every front door is up: readiness needs them, the bundles and the certificate. */
  listenersReady(): boolean;
  /** Routes of the status and admin API, registered under /api/v1 behind the bearer token. */
  api?: (app: FastifyInstance, ctx: Context) => void | Promise<void>;
}

/**
 * The operators' door: liveness, readiness and Prometheus metrics without authentication (probes and
 * scrapers), and the /api/v1 status and admin API behind a bearer token.
 */
export async function startAdmin(ctx: Context, options: AdminOptions): Promise<Listener & { app: FastifyInstance }> {
  const { connections, maxBodyBytes } = ctx.config.admin;
  const app = Fastify({
    logger: false,
    bodyLimit: maxBodyBytes,
    serverFactory: (handler) => {
      const server = createServer(serverOptions(connections), handler);
      limitConnections(server, connections);
      return server;
    },
  });
  app.addHook('onRequest', async (req, reply) => {
    if (tooManyHeaders(req.raw, connections)) return reply.code(431).send({ error: 'request header fields too large', message: `more than ${connections.maxHeaders} header fields (admin.connections.maxHeaders)` });
  });
  // Fastify's own refusals (a body too large, a content type it does not parse, JSON that does not parse) keep their status.
  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) ctx.log.error({ err, url: req.url }, 'admin request failed');
    return reply.code(status).send({ error: (STATUS_CODES[status] ?? 'error').toLowerCase(), message: status === 500 ? 'internal error' : err.message });
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const checks = {
      bundles: ctx.bundles.ready(),
      tls: (() => {
        try {
          return ctx.tls.current().notAfter.getTime() > Date.now();
        } catch {
          return false;
        }
      })(),
      listeners: options.listenersReady(),
      draining: ctx.draining(),
    };
    const ready = checks.bundles && checks.tls && checks.listeners && !checks.draining;
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
  });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', ctx.metrics.registry.contentType);
    return ctx.metrics.registry.metrics();
  });

  await app.register(
    async (api) => {
      api.addHook('onRequest', async (req, reply) => {
        if (!tokenMatches(options.token, req.headers.authorization)) {
          reply.header('www-authenticate', 'Bearer realm="portcullis"');
          return reply.code(401).send({ error: 'unauthorized', message: 'a valid bearer token is required' });
        }
      });
      await options.api?.(api, ctx);
    },
    { prefix: '/api/v1' },
  );

  await app.listen({ host: ctx.config.admin.host, port: ctx.config.admin.port });
  const port = (app.server.address() as { port: number }).port;
  return { name: 'admin', port, app, close: () => app.close() };
}
