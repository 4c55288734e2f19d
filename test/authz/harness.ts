// Starts the real service with both authz doors on random loopback ports, a facts file and a bundle, and
// talks to it like Envoy does (gRPC Check with the published protos, or the HTTP mode).
import { request } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { DecisionEvent } from '../../src/audit/event.js';
import { parseConfig } from '../../src/server/config.js';
import { frontDoors } from '../../src/server/front-doors.js';
import { startService, type Service } from '../../src/server/service.js';
import { BUILTIN_BUNDLE } from '../helpers/paths.js';
import { authzClient, type AuthzClient } from './grpc-client.js';
import { standaloneTestConfig } from '../helpers/service-config.js';

export interface HttpReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface AuthzHarness {
  service: Service;
  dir: string;
  grpcPort: number;
  httpPort: number;
  client: AuthzClient;
  http(path: string, options?: { method?: string; headers?: Record<string, string>; body?: string | Buffer }): Promise<HttpReply>;
  event(decisionId: string): Promise<DecisionEvent>;
  /** The first audit event that matches, for answers that carry no decision id (request_parse_error). */
  eventWhere(match: (e: DecisionEvent) => boolean): Promise<DecisionEvent>;
  close(): Promise<void>;
}

export interface AuthzHarnessOptions {
  /** Merged into the authz section. */
  authz?: Record<string, unknown>;
  /** Bundle archive to serve; the built-in one by default. */
  bundle?: string;
  policy?: Record<string, unknown>;
  facts?: { namespaces?: unknown[]; pods?: unknown[] };
  cluster?: { name: string; trustDomain: string };
}

export async function startAuthz(options: AuthzHarnessOptions = {}): Promise<AuthzHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-authz-'));
  const factsFile = join(dir, 'facts.yaml');
  await writeFile(factsFile, JSON.stringify(options.facts ?? {}));
  const authz = options.authz ?? {};
  const config = parseConfig({
    ...standaloneTestConfig(dir, factsFile),
    admission: { enabled: false },
    ...(options.cluster ? { cluster: options.cluster } : {}),
    policy: { bundles: [{ name: 'authz', path: options.bundle ?? BUILTIN_BUNDLE }], ...options.policy },
    authz: {
      ...authz,
      grpc: { host: '127.0.0.1', port: 0, ...((authz.grpc as object | undefined) ?? {}) },
      http: { host: '127.0.0.1', port: 0, ...((authz.http as object | undefined) ?? {}) },
    },
  });
  await writeFile(join(dir, 'admin-token'), 'test-admin-token');
  const service = await startService({ config, log: pino({ level: 'silent' }), stdout: pino.destination({ dest: '/dev/null', sync: true }), frontDoors: frontDoors(config) });
  const grpcPort = service.listeners.find((l) => l.name === 'authz-grpc')?.port ?? 0;
  const httpPort = service.listeners.find((l) => l.name === 'authz-http')?.port ?? 0;
  const client = authzClient(grpcPort);
  const events = new Map<string, DecisionEvent>();
  service.ctx.audit.onEvent((e) => events.set(e.decision_id, e));
  return {
    service,
    dir,
    grpcPort,
    httpPort,
    client,
    http: (path, opts = {}) =>
      new Promise((resolve, reject) => {
        const body = opts.body;
        const req = request(
          { host: '127.0.0.1', port: httpPort, path, method: opts.method ?? 'GET', headers: { ...(body !== undefined && !opts.headers?.['transfer-encoding'] ? { 'content-length': Buffer.byteLength(body) } : {}), ...opts.headers } },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(body);
      }),
    async event(decisionId) {
      const deadline = Date.now() + 5000;
      for (;;) {
        await service.ctx.audit.flush();
        const e = events.get(decisionId);
        if (e) return e;
        if (Date.now() > deadline) throw new Error(`no audit event for decision ${decisionId}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async eventWhere(match) {
      const deadline = Date.now() + 5000;
      for (;;) {
        await service.ctx.audit.flush();
        const e = [...events.values()].find(match);
        if (e) return e;
        if (Date.now() > deadline) throw new Error('no matching audit event');
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async close() {
      client.close();
      await service.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The decision id a gRPC answer carries in its dynamic metadata. */
export function decisionIdOf(response: { dynamic_metadata?: { fields: Record<string, { stringValue?: string }> } }): string {
  return response.dynamic_metadata?.fields.decision_id?.stringValue ?? '';
}
