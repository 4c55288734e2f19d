import { Type, type Static } from 'typebox';

export type FileSinkConfig = Static<typeof FileSinkConfig>;
export type HttpSinkConfig = Static<typeof HttpSinkConfig>;

const StdoutSinkConfig = Type.Object({ type: Type.Literal('stdout') }, { additionalProperties: false });

const FileSinkConfig = Type.Object(
  {
    type: Type.Literal('file'),
    path: Type.String({ description: 'JSON lines, appended' }),
    maxBytes: Type.Integer({ minimum: 1024, default: 100 * 1024 * 1024, description: 'rotated to path.1, path.2, ... past this size' }),
    maxFiles: Type.Integer({ minimum: 1, default: 5, description: 'rotated files kept' }),
  },
  { additionalProperties: false },
);

const HttpSinkConfig = Type.Object(
  {
    type: Type.Literal('http'),
    url: Type.String({ pattern: '^https?://', description: 'OPA decision log service endpoint, e.g. https://logs.example.com/logs' }),
    headers: Type.Record(Type.String(), Type.String(), { default: {}, description: 'sent with every upload' }),
    bearerTokenFile: Type.Optional(Type.String({ description: 'sent as Authorization: Bearer, re-read at each upload' })),
    maxBatchBytes: Type.Integer({ minimum: 1024, default: 32 * 1024, description: "OPA's upload_size_limit_bytes (compressed)" }),
    minDelaySeconds: Type.Number({ minimum: 0.01, default: 1, description: 'upload at least this often while events wait; retries back off up to maxDelaySeconds' }),
    maxDelaySeconds: Type.Number({ minimum: 0.01, default: 10 }),
    maxBufferEvents: Type.Integer({ minimum: 1, default: 10000, description: 'events waiting for upload; past it the oldest are dropped and counted (portcullis_audit_dropped_events_total)' }),
    timeoutSeconds: Type.Number({ minimum: 0.1, default: 10, description: 'one upload' }),
  },
  { additionalProperties: false },
);

// oneOf with a discriminator (rather than TypeBox's anyOf) so the validator picks one branch by `type`,
// fills that branch's defaults and reports its errors alone.
const Sink = Type.Unsafe<Static<typeof StdoutSinkConfig> | FileSinkConfig | HttpSinkConfig>({
  type: 'object',
  required: ['type'],
  discriminator: { propertyName: 'type' },
  oneOf: [StdoutSinkConfig, FileSinkConfig, HttpSinkConfig],
});

export const AuditConfig = Type.Object(
  {
    sinks: Type.Array(Sink, { default: [{ type: 'stdout' }], description: 'where every decision event goes; stdout lines are written beside the service log' }),
    mask: Type.Array(Type.String({ pattern: '^/' }), { default: [], description: 'JSON pointers into the input, masked in addition to the defaults' }),
    includeInput: Type.Boolean({ default: true, description: 'write the (masked) policy input into each event' }),
    // Each kept line outlives young-generation collections and is copied by them: 1,000 tripled the p99 of /validate at 1,000 req/s.
    recent: Type.Integer({ minimum: 0, default: 100, description: 'events kept in memory for GET /api/v1/observability/logs' }),
  },
  { default: {}, additionalProperties: false },
);
export type AuditConfig = Static<typeof AuditConfig>;
