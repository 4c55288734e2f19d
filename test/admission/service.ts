// Starts the real service with the admission front door on random loopback ports, and talks to it over
// HTTPS the way the API server does (keep-alive, the dev CA as caBundle).
import { request as httpsRequest, Agent } from 'node:https';
import { request as httpRequest } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { DecisionEvent } from '../../src/audit/event.js';
import type { ClusterFacts } from '../../src/facts/facts.js';
import { parseConfig } from '../../src/server/config.js';
import { frontDoors } from '../../src/server/front-doors.js';
import { startService, type Service } from '../../src/server/service.js';
import { FIXTURES } from '../helpers/paths.js';
import { standaloneTestConfig } from '../helpers/service-config.js';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

export interface Harness {
  service: Service;
  dir: string;
  ca: string;
  port: number;
  adminPort: number;
  token: string;
  events: DecisionEvent[];
  /** POSTs a document (or raw text) to the admission door over HTTPS; `chunked` sends it without a content-length. */
  post(path: string, body: unknown, options?: PostOptions): Promise<Reply>;
  get(path: string): Promise<Reply>;
  /** Resolves once /readyz answers 200. */
  ready(): Promise<void>;
  /** POSTs to the admin API under /api/v1 with the bearer token. */
  api(path: string, body: unknown, options?: { raw?: string; token?: string }): Promise<Reply>;
  /** The count of events so far, to pass to eventsSince. */
  mark(): number;
  /** Resolves with the `n` events sealed after `mark` once they are there. */
  eventsSince(mark: number, n?: number): Promise<DecisionEvent[]>;
  /** The event of a decision, by the decision id the response carries. */
  event(decisionId: string): Promise<DecisionEvent>;
  close(): Promise<void>;
}

export interface PostOptions {
  raw?: string | Buffer;
  contentType?: string;
  chunked?: boolean;
}

export interface HarnessOptions {
  /** Sections merged into the configuration (admission, policy, ...). */
  config?: Record<string, unknown>;
  /** namespaces: [{name, labels}] for the standalone facts file. */
  namespaces?: Array<{ name: string; labels?: Record<string, string>; annotations?: Record<string, string> }>;
  /** Facts from elsewhere (Kubernetes informers) instead of the file. */
  facts?: ClusterFacts;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-admission-'));
  const factsFile = join(dir, 'facts.yaml');
  await writeFile(factsFile, JSON.stringify({ namespaces: options.namespaces ?? [] }));
  const token = 'test-admin-token';
  await writeFile(join(dir, 'admin-token'), token);
  const base = options.config ?? {};
  const standalone = standaloneTestConfig(dir, factsFile);
  const config = parseConfig({
    ...base,
    ...standalone,
    admin: { ...((base.admin as object | undefined) ?? {}), ...standalone.admin },
    authz: { enabled: false, ...((base.authz as object | undefined) ?? {}) },
    admission: { host: '127.0.0.1', port: 0, ...((base.admission as object | undefined) ?? {}) },
  });
  const log = pino({ level: 'silent' });
  let service: Service;
  try {
    service = await startService({ config, log, stdout: pino.destination({ dest: '/dev/null', sync: true }), frontDoors: frontDoors(config), ...(options.facts ? { facts: options.facts } : {}) });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const door = service.listeners.find((l) => l.name === 'admission');
  if (!door) throw new Error('the admission front door did not start');
  const ca = await readFile(join(dir, 'certs', 'ca.crt'), 'utf8');
  const agent = new Agent({ keepAlive: true, ca, servername: 'localhost' });
  const events: DecisionEvent[] = [];
  const waiters: Array<() => void> = [];
  // The line, as written: the admission input is recorded serialized, so only the line has it.
  service.ctx.audit.onEvent((_e, line) => {
    events.push(JSON.parse(line) as DecisionEvent);
    for (const w of waiters.splice(0)) w();
  });

  const send = (path: string, method: string, body: unknown, opts: PostOptions = {}) =>
    new Promise<Reply>((resolve, reject) => {
      const payload = opts.raw ?? (body === undefined ? undefined : JSON.stringify(body));
      const length = opts.chunked ? {} : { 'content-length': Buffer.byteLength(payload ?? '') };
      const req = httpsRequest(
        {
          host: '127.0.0.1',
          port: door.port,
          path,
          method,
          agent,
          headers: payload === undefined ? {} : { 'content-type': opts.contentType ?? 'application/json', ...length },
        },
        (res) => collect(res, resolve, reject),
      );
      req.on('error', reject);
      if (opts.chunked && payload !== undefined) {
        // Transfer-Encoding: chunked, in pieces of 16 KiB, the way a streaming client sends a body of unknown size.
        const bytes = Buffer.from(payload);
        for (let i = 0; i < bytes.length; i += 16 * 1024) req.write(bytes.subarray(i, i + 16 * 1024));
        req.end();
      } else req.end(payload);
    });

  // Events are sealed on the next turn of the event loop; flushing seals whatever is pending now.
  const until = async (done: () => boolean) => {
    const deadline = Date.now() + 5000;
    await service.ctx.audit.flush();
    while (!done()) {
      if (Date.now() > deadline) throw new Error('the expected audit event was not recorded');
      await Promise.race([new Promise<void>((r) => waiters.push(r)), new Promise((r) => setTimeout(r, 50))]);
    }
  };

  const harness: Harness = {
    service,
    dir,
    ca,
    port: door.port,
    adminPort: service.admin.port,
    token,
    events,
    post: (path, body, opts) => send(path, 'POST', body, opts),
    get: (path) => send(path, 'GET', undefined),
    ready: () => pollUntil(() => send('/readyz', 'GET', undefined), (r) => r.status === 200),
    api: (path, body, opts = {}) =>
      new Promise<Reply>((resolve, reject) => {
        const payload = opts.raw ?? JSON.stringify(body);
        const req = httpRequest(
          {
            host: '127.0.0.1',
            port: service.admin.port,
            path: `/api/v1${path}`,
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${opts.token ?? token}`, 'content-length': Buffer.byteLength(payload) },
          },
          (res) => collect(res, resolve, reject),
        );
        req.on('error', reject);
        req.end(payload);
      }),
    mark: () => {
      // Seal what earlier requests recorded (flush drains synchronously before it awaits the sinks).
      void service.ctx.audit.flush();
      return events.length;
    },
    async eventsSince(mark, n = 1) {
      await until(() => events.length >= mark + n);
      return events.slice(mark, mark + n);
    },
    async event(decisionId) {
      await until(() => events.some((e) => e.decision_id === decisionId));
      return events.find((e) => e.decision_id === decisionId) as DecisionEvent;
    },
    async close() {
      agent.destroy();
      await service.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  // A decision worker up before the first review: reviews past what the main thread decides wait for one
  // within admission.timeoutMs, and workers start in the background (under tsx on a busy machine, in seconds).
  await pollUntil(() => send('/readyz', 'GET', undefined), (r) => r.json?.checks?.workers === true);
  return harness;
}

async function pollUntil(get: () => Promise<Reply>, done: (r: Reply) => boolean): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (let last = await get(); !done(last); last = await get()) {
    if (Date.now() > deadline) throw new Error(`the admission door did not get ready in 120 s: /readyz says ${last.status} ${last.body}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function collect(res: import('node:http').IncomingMessage, resolve: (r: Reply) => void, reject: (e: Error) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('error', reject);
  res.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      json = undefined;
    }
    resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json });
  });
}

/** A fixture AdmissionReview, deep-copied so a test can change it. */
export async function fixture(name: string): Promise<{ apiVersion: string; kind: string; request: Record<string, any> }> {
  return JSON.parse(await readFile(join(FIXTURES, 'admission', name), 'utf8'));
}

/** The patch of a response, decoded. */
export function patchOf(response: { patch?: string; patchType?: string }): Array<{ op: string; path: string; value?: any }> {
  if (response.patch === undefined) return [];
  return JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8'));
}

/** An admission.k8s.io/v1 AdmissionReview around `request`. */
export function reviewOf(request: Record<string, unknown>) {
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request };
}

/** An AdmissionReview of the fixture Pod moved to `namespace` with a fresh uid, changed by `edit`, with `request` fields overridden. */
export function podReview(base: Awaited<ReturnType<typeof fixture>>, namespace: string, edit: (pod: any) => void = () => {}, request: Record<string, unknown> = {}) {
  const review = structuredClone(base);
  review.request.namespace = namespace;
  review.request.object.metadata.namespace = namespace;
  review.request.uid = `uid-${Math.random().toString(16).slice(2)}`;
  edit(review.request.object);
  Object.assign(review.request, request);
  return review;
}
