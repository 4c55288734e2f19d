import { readFile } from 'node:fs/promises';
import type { ErrorObject } from 'ajv';
import { Type, type Static } from 'typebox';
import { parse as parseYaml } from 'yaml';
import { AdmissionConfig } from '../admission/config.js';
import { AuditConfig } from '../audit/config.js';
import { AuthzConfig } from '../authz/config.js';
import { TlsConfig } from '../certs/config.js';
import { KubernetesConfig } from '../kube/config.js';
import { httpConnections } from '../net/http-limits.js';
import { PolicyConfig } from '../policy/config.js';
import { PostureConfig } from '../posture/config.js';
import { schemaValidator } from '../schema/validator.js';
import { SdsConfig } from '../sds/config.js';

export const Config = Type.Object(
  {
    mode: Type.Union([Type.Literal('standalone'), Type.Literal('kubernetes')], {
      default: 'standalone',
      description: 'standalone: no cluster, facts from facts.file, dev certificates; kubernetes: informers, certificates in a Secret, leader election (the chart sets it)',
    }),
    cluster: Type.Object(
      {
        name: Type.String({ default: 'standalone', description: 'this cluster, given to the policies as input.context.cluster.name' }),
        trustDomain: Type.String({ default: 'cluster.local', description: 'SPIFFE trust domain of this mesh: identities are spiffe://<trustDomain>/ns/<namespace>/sa/<service account>' }),
      },
      { default: {}, additionalProperties: false },
    ),
    log: Type.Object(
      { level: Type.String({ enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info', description: "the service's own log lines (pino JSON on stdout); audit events are not affected" }) },
      { default: {}, additionalProperties: false },
    ),
    admin: Type.Object(
      {
        host: Type.String({ default: '0.0.0.0', description: 'address the admin listener binds' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 9090, description: 'probes, /metrics and the token-protected /api/v1 (plain HTTP: keep it inside the cluster network)' }),
        tokenFile: Type.Optional(Type.String({ description: 'bearer token for /api/v1; PORTCULLIS_ADMIN_TOKEN also works; standalone writes one under certs/ when neither is set' })),
        maxBodyBytes: Type.Integer({ minimum: 1024, default: 1024 * 1024, description: 'largest request body (POST /api/v1/mesh/validate)' }),
        connections: httpConnections(
          // Probes and Prometheus send small requests and wait for the answer; operators use curl.
          { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000, idleTimeoutMs: 60_000, maxConnections: 256, maxHeaders: 100 },
          'the admin listener',
        ),
      },
      { default: {}, additionalProperties: false },
    ),
    facts: Type.Object(
      { file: Type.Optional(Type.String({ description: 'standalone: namespaces and pods as YAML, re-read when changed' })) },
      { default: {}, additionalProperties: false },
    ),
    tls: TlsConfig,
    kubernetes: KubernetesConfig,
    policy: PolicyConfig,
    admission: AdmissionConfig,
    authz: AuthzConfig,
    sds: SdsConfig,
    audit: AuditConfig,
    posture: PostureConfig,
  },
  { additionalProperties: false },
);
export type Config = Static<typeof Config>;

/** A configuration that does not validate; the message lists every problem with its path. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`invalid configuration in ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const validate = schemaValidator<Config>(Config, { useDefaults: true, allErrors: true, discriminator: true });

/** Validates a configuration document and fills in every default. The input is not modified. */
export function parseConfig(doc: unknown, source = 'configuration'): Config {
  const copy = structuredClone(doc ?? {});
  if (!validate(copy)) throw new ConfigError(source, (validate.errors ?? []).map(describe));
  return copy as Config;
}

/** Reads the YAML (or JSON) file; no file means the standalone defaults. */
export async function loadConfig(path: string | undefined): Promise<Config> {
  if (!path) return parseConfig({}, 'defaults');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, [`cannot read the file: ${(err as Error).message}`]);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ConfigError(path, [`not valid YAML: ${(err as Error).message}`]);
  }
  return parseConfig(doc, path);
}

function describe(e: ErrorObject): string {
  const where = e.instancePath || '/';
  if (e.keyword === 'additionalProperties') return `${where}: unknown field ${JSON.stringify((e.params as { additionalProperty: string }).additionalProperty)}`;
  if (e.keyword === 'discriminator') return `${where}: ${e.message}`;
  if (e.keyword === 'enum') return `${where}: ${e.message} (${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')})`;
  return `${where}: ${e.message}`;
}
