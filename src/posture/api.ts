import type { FastifyInstance, FastifyReply } from 'fastify';
import { describe } from '../kube/errors.js';
import type { PostureView } from './view.js';

const NamespaceQuery = {
  type: 'object',
  properties: {
    rule: { type: 'string', maxLength: 200 },
    enforcement: { type: 'string', enum: ['deny', 'warn', 'dryrun'] },
    limit: { type: 'integer', minimum: 1, maximum: 10000, default: 1000 },
  },
  additionalProperties: false,
} as const;

const NamespaceParams = {
  type: 'object',
  properties: { namespace: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 } },
  required: ['namespace'],
} as const;

/**
 * GET /api/v1/security/posture (the summary by rule and namespace, the bundle revisions, the last sweep) and
 * GET /api/v1/security/posture/{namespace} (its violations with object, rule and message), behind the
 * admin API's token. `view` says where the answers come from, or why there are none (a string: 404 with it).
 */
export function postureRoutes(app: FastifyInstance, view: () => PostureView | string): void {
  app.get('/security/posture', async (_req, reply) => {
    const v = view();
    if (typeof v === 'string') return reply.code(404).send({ error: 'not found', message: v });
    return v.overview().catch((err: unknown) => unavailable(reply, err));
  });
  app.get<{ Params: { namespace: string }; Querystring: { rule?: string; enforcement?: 'deny' | 'warn' | 'dryrun'; limit: number } }>(
    '/security/posture/:namespace',
    { schema: { params: NamespaceParams, querystring: NamespaceQuery } },
    async (req, reply) => {
      const v = view();
      if (typeof v === 'string') return reply.code(404).send({ error: 'not found', message: v });
      const answer = await v.namespace(req.params.namespace, req.query).catch((err: unknown) => err as Error);
      if (answer instanceof Error) return unavailable(reply, answer);
      if (!answer) return reply.code(404).send({ error: 'not found', message: `no audited object in namespace ${req.params.namespace}` });
      return answer;
    },
  );
}

/** The reports could not be read (API server away, no CRD, no permission): say so rather than a bare 500. */
function unavailable(reply: FastifyReply, err: unknown) {
  return reply.code(503).send({ error: 'unavailable', message: `the posture reports cannot be read: ${describe(err)}` });
}
