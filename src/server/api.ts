import type { FastifyInstance } from 'fastify';
import { postureRoutes } from '../posture/api.js';
import type { PostureView } from '../posture/view.js';
import type { Context, Listener } from './context.js';
import { VERSION } from './version.js';

const LogsQuery = {
  type: 'object',
  properties: {
    kind: { type: 'string', enum: ['admission', 'authz', 'posture', 'sds', 'node'] },
    decision: { type: 'string', enum: ['allow', 'deny', 'error'] },
    rule: { type: 'string', maxLength: 200 },
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
  },
  additionalProperties: false,
} as const;

/** The status and observability API (the seed's /api/v1 routes), plus the routes front doors contribute. */
export function apiRoutes(listeners: () => Listener[], extra: { kubernetes?: (() => unknown) | undefined; posture?: (() => PostureView | string) | undefined } = {}) {
  return async (app: FastifyInstance, ctx: Context): Promise<void> => {
    app.setErrorHandler((err: Error & { statusCode?: number; validation?: unknown }, _req, reply) => {
      const status = err.statusCode && err.statusCode < 500 ? err.statusCode : 500;
      return reply.code(status).send({ error: status === 500 ? 'internal' : 'bad request', message: status === 500 ? 'internal error' : err.message });
    });

    app.get('/mesh/status', async () => {
      let certificate: { notAfter: string } | { error: string };
      try {
        certificate = { notAfter: ctx.tls.current().notAfter.toISOString() };
      } catch (err) {
        certificate = { error: (err as Error).message };
      }
      return {
        version: VERSION,
        mode: ctx.config.mode,
        ready: ctx.bundles.ready() && !ctx.draining(),
        bundles: ctx.bundles.status(),
        certificate,
        kubernetes: extra.kubernetes?.() ?? { mode: ctx.config.mode, factsSynced: ctx.facts.synced() },
        audit: { events: ctx.audit.sealed, sinks: ctx.audit.health() },
        listeners: listeners().map((l) => ({ name: l.name, port: l.port })),
      };
    });

    app.get<{ Querystring: { kind?: string; decision?: string; rule?: string; limit?: number } }>(
      '/observability/logs',
      { schema: { querystring: LogsQuery } },
      async (req) => ({ events: ctx.audit.recent(req.query) }),
    );

    postureRoutes(app, extra.posture ?? (() => 'the posture audit runs in Kubernetes mode only (mode: kubernetes); use `portcullis eval` on manifests'));

    for (const l of listeners()) await l.api?.(app);
  };
}
