import t from 'tap';
import { request as httpsRequest, Agent } from 'node:https';
import { Masker } from '../../src/audit/mask.js';
import { decide, type DecideDeps, type Webhook } from '../../src/admission/decide.js';
import { Injector } from '../../src/admission/injection/injector.js';
import { fixture, podReview, reviewOf, startHarness } from './service.js';

// A seeded, time-bounded fuzz run: the shipped fixtures and a deny case of every rule, mutated (types,
// sizes, unicode, structure, raw bytes), decided in this process as a decision worker decides them and, a
// share of them, sent to the real HTTPS listener. It shows no fail-open (a deny case answered allowed when
// the mutation left the fields that make it a deny case alone), no HTTP 5xx and no crash, and prints its
// counts. FUZZ_SEED and FUZZ_REVIEWS change the run.
const SEED = Number(process.env.FUZZ_SEED ?? 20261203);
const TOTAL = Number(process.env.FUZZ_REVIEWS ?? 100_000);
/** One review in this many goes through HTTPS. */
const HTTPS_EVERY = 20;
const BUDGET_MS = 420_000;
t.setTimeout(BUDGET_MS + 120_000);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
const random = mulberry32(SEED);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
const chance = (p: number) => random() < p;

const namespaces: Array<{ name: string; labels: Record<string, string> }> = [
  { name: 'payments', labels: { 'portcullis.io/injection': 'enabled' } },
  { name: 'plain', labels: {} },
];
const h = await startHarness({ namespaces });
t.teardown(() => h.close());
await h.ready();
const base = await fixture('pod-create-deployment.json');
const peer = await fixture('peerauthentication-permissive.json');

/** A seed: a review, and for a deny case the fields that make it one (a mutation there may change the answer). */
interface Seed {
  name: string;
  review: Json;
  /** Paths (dotted, from request) whose change may lawfully turn the denial into an allow; none for a clean seed. */
  deniedBy?: string[];
}

const ENVELOPE = ['kind', 'resource', 'requestKind', 'requestResource', 'subResource', 'requestSubResource', 'operation', 'namespace', 'name', 'userInfo', 'oldObject', 'object.kind', 'object.apiVersion', 'object.metadata.namespace'];

const pod = (edit: (p: Json) => void, namespace = 'plain') => podReview(base, namespace, edit);
const istio = (group: string, kind: string, spec: Json): Json =>
  reviewOf({
    uid: 'fuzz-istio',
    kind: { group, version: 'v1', kind },
    resource: { group, version: 'v1', resource: `${kind.toLowerCase()}s` },
    name: 'x',
    namespace: 'payments',
    operation: 'CREATE',
    userInfo: { username: 'alice' },
    object: { apiVersion: `${group}/v1`, kind, metadata: { name: 'x', namespace: 'payments' }, spec },
  });
const deployment = () => {
  const r = structuredClone(base);
  r.request.kind = { group: 'apps', version: 'v1', kind: 'Deployment' };
  r.request.resource = { group: 'apps', version: 'v1', resource: 'deployments' };
  const template = { metadata: { labels: r.request.object.metadata.labels }, spec: structuredClone(r.request.object.spec) };
  template.spec.containers[0].securityContext.privileged = true;
  r.request.object = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'payments' }, spec: { selector: { matchLabels: { app: 'x' } }, template } };
  return r;
};

const c0 = 'object.spec.containers';
const SEEDS: Seed[] = [
  { name: 'clean Pod', review: pod(() => {}) },
  { name: 'clean PeerAuthentication', review: (() => { const r = structuredClone(peer); r.request.object.spec = { mtls: { mode: 'STRICT' } }; return r; })() },
  { name: 'no-privileged', review: pod((p) => (p.spec.containers[0].securityContext.privileged = true)), deniedBy: [`${c0}.0.securityContext.privileged`] },
  { name: 'no-host-namespaces', review: pod((p) => (p.spec.hostNetwork = true)), deniedBy: ['object.spec.hostNetwork'] },
  { name: 'capabilities-allowlist', review: pod((p) => (p.spec.containers[0].securityContext.capabilities = { add: ['SYS_ADMIN'] })), deniedBy: [`${c0}.0.securityContext.capabilities.add`] },
  { name: 'no-default-service-account', review: pod((p) => (p.spec.serviceAccountName = 'default')), deniedBy: ['object.spec.serviceAccountName', 'object.spec.serviceAccount'] },
  { name: 'required-labels', review: pod((p) => delete p.metadata.labels.version), deniedBy: ['object.metadata.labels'] },
  { name: 'image-registry-allowlist', review: pod((p) => (p.spec.containers[0].image = 'evil.example.com/app:1.0')), deniedBy: [`${c0}.0.image`] },
  { name: 'image-tag-pinned', review: pod((p) => (p.spec.containers[0].image = 'registry.example.com/app:latest')), deniedBy: [`${c0}.0.image`] },
  { name: 'sidecar-required', review: pod(() => {}, 'payments'), deniedBy: ['object.spec.containers', 'object.spec.initContainers', 'object.spec.hostNetwork', 'object.metadata.labels'] },
  { name: 'traffic-interception', review: pod((p) => (p.metadata.annotations['traffic.portcullis.io/excludeInboundPorts'] = '8080')), deniedBy: ['object.metadata.annotations'] },
  { name: 'pod template', review: deployment(), deniedBy: ['object.spec.template.spec.containers.0.securityContext.privileged'] },
  { name: 'peer-authentication-strict', review: peer, deniedBy: ['object.spec.mtls', 'object.spec.portLevelMtls'] },
  { name: 'authorization-policy-no-allow-all', review: istio('security.istio.io', 'AuthorizationPolicy', { action: 'ALLOW', rules: [{}] }), deniedBy: ['object.spec.rules', 'object.spec.action'] },
  { name: 'wildcard principal', review: istio('security.istio.io', 'AuthorizationPolicy', { rules: [{ from: [{ source: { principals: ['*'] } }] }] }), deniedBy: ['object.spec.rules', 'object.spec.action'] },
  { name: 'destination-rule-istio-mutual', review: istio('networking.istio.io', 'DestinationRule', { host: 'web.payments.svc.cluster.local', trafficPolicy: { tls: { mode: 'DISABLE' } } }), deniedBy: ['object.spec.host', 'object.spec.trafficPolicy'] },
  { name: 'request-authentication-issuer-allowlist', review: istio('security.istio.io', 'RequestAuthentication', { jwtRules: [{ issuer: 'https://evil.example' }] }), deniedBy: ['object.spec.jwtRules'] },
  { name: 'service-port-protocol', review: (() => { const r = istio('', 'Service', { ports: [{ name: 'web', port: 80 }] }); r.request.object.apiVersion = 'v1'; return r; })(), deniedBy: ['object.spec.ports'] },
];

// Strings that have slipped past rules elsewhere: lone surrogates, controls, bidi overrides, homoglyphs, case.
const STRINGS = ['', ' ', '\ud800', 'a\udc00b', '\u0000', '\u202eevil', 'ρrivileged', 'PRIVILEGED', 'true', '1', '-1', '1e400', '0x10', 'null', '*', '/*', '0.0.0.0/0', '::/0', '\u{1F6C2}', 'e\u0301', '\ufeff', 'a'.repeat(300), 'default', 'STRICT', 'DISABLE', 'ALLOW', 'kube-system', 'latest', 'CAP_SYS_ADMIN'];
const NUMBERS = [0, -1, 1, 1.5, -0, 1e308, 2 ** 53 + 1, 65536, 8080];
const KEYS = ['privileged', 'Privileged', 'port_level_mtls', 'portLevelMtls', 'mode', 'jwks_uri', 'x', '', '\ud800', '__proto__', 'constructor'];

function randomValue(depth = 0): Json {
  switch (Math.floor(random() * 9)) {
    case 0:
      return null;
    case 1:
      return chance(0.5);
    case 2:
      return pick(NUMBERS);
    case 3:
    case 4:
      return pick(STRINGS);
    case 5:
      return depth > 2 ? [] : Array.from({ length: Math.floor(random() * 3) }, () => randomValue(depth + 1));
    case 6:
      return depth > 2 ? {} : Object.fromEntries(Array.from({ length: Math.floor(random() * 3) }, () => [pick(KEYS), randomValue(depth + 1)]));
    case 7:
      return 'x'.repeat(Math.floor(random() * 5000));
    default:
      return chance(0.5) ? [] : {};
  }
}

/** Every path of the document, as key lists from the request. */
function paths(value: Json, prefix: Array<string | number> = [], out: Array<Array<string | number>> = []): Array<Array<string | number>> {
  if (value === null || typeof value !== 'object' || out.length > 4000) return out;
  for (const key of Array.isArray(value) ? value.keys() : Object.keys(value)) {
    const p = [...prefix, key];
    out.push(p);
    paths(value[key as never], p, out);
  }
  return out;
}

const get = (doc: Json, path: Array<string | number>) => path.reduce((v, k) => (v === null || typeof v !== 'object' ? undefined : v[k]), doc);

/** Mutates the request in place, returning the dotted paths it changed. `all` are the seed's paths (some gone once one changed). */
function mutate(request: Json, all: Array<Array<string | number>>): string[] {
  const changed: string[] = [];
  const count = 1 + Math.floor(random() * 3);
  for (let m = 0; m < count && all.length > 0; m++) {
    const path = pick(all);
    const parent = get(request, path.slice(0, -1));
    if (parent === null || typeof parent !== 'object') continue;
    const key = path[path.length - 1] as never;
    const op = random();
    if (op < 0.45) parent[key] = randomValue();
    else if (op < 0.6) {
      if (Array.isArray(parent)) parent.splice(key, 1);
      else delete parent[key];
    } else if (op < 0.7) parent[key] = [parent[key]];
    else if (op < 0.75 && Array.isArray(parent)) parent.push(structuredClone(parent[key]), randomValue());
    else if (op < 0.82 && !Array.isArray(parent) && typeof key === 'string') {
      // The same field under another spelling: another case, or the proto name.
      const renamed = chance(0.5) ? (key as string).toUpperCase() : (key as string).replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
      parent[renamed] = parent[key];
      delete parent[key];
    } else if (op < 0.87) parent[key] = pick(STRINGS) + (typeof parent[key] === 'string' ? parent[key] : '');
    else if (op < 0.9) {
      // Deep, wide or long: up to and past the limits.
      const what = random();
      let v: Json = 1;
      if (what < 0.33) for (let i = 0; i < (chance(0.5) ? 100 : 300); i++) v = [v];
      else if (what < 0.66) v = Object.fromEntries(Array.from({ length: chance(0.5) ? 500 : 1500 }, (_, i) => [`k${i}`, i]));
      else v = 'w'.repeat(chance(0.9) ? 100_000 : 1_100_000);
      parent[key] = v;
    } else parent[key] = typeof parent[key] === 'number' ? String(parent[key]) : typeof parent[key] === 'string' && /^\d+$/.test(parent[key]) ? Number(parent[key]) : randomValue();
    changed.push(path.join('.'));
  }
  return changed;
}

/** Raw-byte damage on top: truncation, invalid UTF-8, a BOM, trailing garbage, a duplicate key. */
function damage(text: string): Buffer {
  const op = random();
  if (op < 0.2) return Buffer.from(text.slice(0, Math.floor(random() * text.length)));
  if (op < 0.4) {
    const b = Buffer.from(text);
    b[Math.floor(random() * b.length)] = pick([0xff, 0xc0, 0x80, 0x00, 0x22, 0x5c]);
    return b;
  }
  if (op < 0.55) return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]);
  if (op < 0.7) return Buffer.from(`${text}${pick(['}', ',', ' x', '\u0000'])}`);
  // JSON.parse keeps the last of two equal keys, as Go's decoder does.
  return Buffer.from(text.replace('"request":{', '"request":{"uid":"dup","uid":'));
}

/** Whether a mutated path may change the answer of the seed: on the path to what denies it, or in the envelope. */
const touches = (seed: Seed, changed: string[]) =>
  changed.some((c) => [...(seed.deniedBy ?? []), ...ENVELOPE].some((d) => c === d || c.startsWith(`${d}.`) || d.startsWith(`${c}.`)));

const deps: DecideDeps = {
  snapshot: h.service.ctx.engine.current(),
  injector: new Injector(h.service.ctx.config.admission.injection, h.service.ctx.config.cluster, { info: () => {}, error: () => {} }),
  namespace: (name) => h.service.ctx.facts.namespace(name) ?? null,
  cluster: h.service.ctx.config.cluster,
  entrypoints: { validate: 'portcullis/admission/violations', mutate: 'portcullis/admission/patches', patchesActive: 'portcullis/admission/patches_active' },
  dropManagedFields: true,
  maxJsonDepth: h.service.ctx.config.admission.maxJsonDepth,
  limits: h.service.ctx.config.admission.limits,
  masker: new Masker(h.service.ctx.config.audit.mask),
};
await deps.injector.start();
t.teardown(() => deps.injector.stop());

const agent = new Agent({ keepAlive: true, maxSockets: 8, ca: h.ca, servername: 'localhost' });
t.teardown(() => agent.destroy());
const send = (webhook: Webhook, body: Buffer) =>
  new Promise<{ status: number; json: Json }>((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port: h.port, path: `/${webhook}`, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let json: Json;
        try {
          json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });

t.test(`${TOTAL} mutated reviews: no fail-open, no 5xx, no crash (seed ${SEED})`, async (t) => {
  // Every deny seed is denied before it is mutated, else the oracle proves nothing.
  for (const seed of SEEDS) {
    const d = decide('validate', Buffer.from(JSON.stringify(seed.review)), deps);
    t.equal(d.kind === 'decided' && d.outcome.allowed, !seed.deniedBy, `${seed.name}: ${seed.deniedBy ? 'denied' : 'allowed'} unmutated`);
  }
  const seedPaths = new Map(SEEDS.map((seed) => [seed, paths(seed.review.request)]));
  const counts = { reviews: 0, https: 0, allowed: 0, denied: 0, refused: 0, failedClosed: 0, protectedDenyCases: 0, failOpen: 0, http5xx: 0, crashes: 0 };
  const failures: string[] = [];
  const started = Date.now();
  const inFlight = new Set<Promise<void>>();
  while (counts.reviews < TOTAL && Date.now() - started < BUDGET_MS) {
    const seed = pick(SEEDS);
    const review = structuredClone(seed.review);
    review.request.uid = `fuzz-${counts.reviews}`;
    const changed = mutate(review.request, seedPaths.get(seed) as Array<Array<string | number>>);
    const raw = chance(0.05);
    const text = JSON.stringify(review);
    const body = raw ? damage(text) : Buffer.from(text);
    const webhook: Webhook = chance(0.8) ? 'validate' : 'mutate';
    const judged = webhook === 'validate' && !!seed.deniedBy && !raw && !touches(seed, changed);
    if (judged) counts.protectedDenyCases++;
    const what = () => `${seed.name} /${webhook} ${raw ? 'raw ' : ''}changed ${changed.join(', ')}: ${text.slice(0, 300)}`;
    counts.reviews++;
    if (counts.reviews % HTTPS_EVERY === 0) {
      counts.https++;
      const p: Promise<void> = send(webhook, body).then(
        ({ status, json }) => {
          if (status >= 500) (counts.http5xx++, failures.unshift(`HTTP ${status} ${JSON.stringify(json)} for ${what()}`));
          const response = json?.response;
          if (status === 200 && response?.allowed === true) counts.allowed++;
          else if (status === 200 && response?.status?.code === 500) counts.failedClosed++;
          else if (status === 200 && response?.status?.code === 403) counts.denied++;
          else counts.refused++;
          if (judged && response?.allowed === true) (counts.failOpen++, failures.push(`fail-open over HTTPS: ${what()}`));
        },
        (err: Error) => void (counts.crashes++, failures.push(`HTTPS request failed (${err.message}) for ${what()}`)),
      );
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
      if (inFlight.size >= 8) await Promise.race(inFlight);
      continue;
    }
    let decision;
    try {
      decision = decide(webhook, new Uint8Array(body), { ...deps, snapshot: h.service.ctx.engine.current() });
    } catch (err) {
      counts.crashes++;
      failures.push(`decide threw ${(err as Error).stack?.split('\n').slice(0, 3).join(' ')} for ${what()}`);
      continue;
    }
    if (decision.kind === 'malformed') {
      counts.refused++;
      if ((decision.status?.code ?? 400) >= 500) (counts.http5xx++, failures.unshift(`status ${decision.status?.code} for ${what()}`));
      continue;
    }
    if (decision.kind !== 'decided') continue;
    if (decision.outcome.decision === 'error') counts.failedClosed++;
    else if (decision.outcome.allowed) counts.allowed++;
    else counts.denied++;
    if (judged && decision.outcome.allowed) (counts.failOpen++, failures.push(`fail-open: ${what()}`));
  }
  await Promise.all(inFlight);
  const seconds = (Date.now() - started) / 1000;
  console.log(`# fuzz seed ${SEED}: ${JSON.stringify(counts)} in ${seconds.toFixed(1)} s`);
  for (const f of failures.slice(0, 20)) console.log(`# ${f.slice(0, 600)}`);
  t.ok(counts.reviews >= TOTAL, `${counts.reviews} reviews within the time budget`);
  t.ok(counts.https >= counts.reviews / HTTPS_EVERY - 1, `${counts.https} through HTTPS`);
  t.ok(counts.protectedDenyCases > counts.reviews / 4, `${counts.protectedDenyCases} deny cases whose mutations left their denial alone`);
  t.equal(counts.failOpen, 0, 'no fail-open');
  t.equal(counts.http5xx, 0, 'no HTTP 5xx');
  t.equal(counts.crashes, 0, 'no crash');
  t.equal((await h.get('/healthz')).status, 200, 'the service is still up');
});
