// Differential check: the opa-envoy-plugin style fixture policy decides the same through Portcullis (WASM)
// as through the pinned OPA itself (`opa eval`), on the very input documents Portcullis built.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { FIXTURES, OPA } from '../helpers/paths.js';
import { testBundle } from './bundles.js';
import { fromProtoJson } from './grpc-client.js';
import { decisionIdOf, startAuthz } from './harness.js';
import { AUDIENCE, ISSUER, sign, testKey } from './issuer.js';

const run = promisify(execFile);
const dir = await mkdtemp(join(tmpdir(), 'portcullis-differential-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const key = await testKey('k1');
const h = await startAuthz({ bundle: await testBundle(dir), authz: { entrypoint: 'envoy/authz/result', jwt: { issuers: [{ issuer: ISSUER, audiences: [AUDIENCE], jwks: { keys: [key.jwk] } }] } } });
t.teardown(() => h.close());
const fixture = JSON.parse(await readFile(join(FIXTURES, 'authz', 'check-jwt-mtls.json'), 'utf8'));

// A small deterministic generator, so a failure can be replayed.
let seed = 20261125;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;

const METHODS = ['GET', 'GET', 'POST', 'POST', 'HEAD', 'DELETE', 'PUT'];
const PATHS = ['/healthz', '/healthz?x=1', '/api/v1/products/1', '/api/v1/products/a/b', '/api/v1/products', '/api/v1/charges', '/api/v1/charges?dry_run=true', '/api/v1/charges?dry_run=false&currency=EUR', '/api/v1/charges/', '/api/v1/orders/user-1', '/api/v1/orders/user-2', '/api/v1/orders/user-1/items', '/', '/api/v1/Orders/user-1', '/api/v1/orders/user%2D1'];
const SUBS = ['user-1', 'user-2', undefined];
const SCOPES = ['charges:write', 'read', 'charges:write read', 'read charges:write', '', undefined];
const ROLES = [['admin'], ['viewer'], ['viewer', 'admin'], undefined];
const BODIES = [undefined, { amount: 50 }, { amount: 100000 }, { amount: 100001 }, { amount: '7' }, { currency: 'EUR' }, [1, 2]];

async function generate(): Promise<unknown> {
  const doc = structuredClone(fixture);
  const http = doc.attributes.request.http;
  http.method = http.headers[':method'] = pick(METHODS);
  http.path = http.headers[':path'] = pick(PATHS);
  const hasToken = rnd() < 0.8;
  if (hasToken) {
    const claims: Record<string, unknown> = { sub: pick(SUBS) };
    const scope = pick(SCOPES);
    if (scope !== undefined) claims.scope = scope;
    const roles = pick(ROLES);
    if (roles) claims.roles = roles;
    http.headers.authorization = `Bearer ${await sign(key, claims)}`;
  } else delete http.headers.authorization;
  const body = pick(BODIES);
  if (body === undefined) {
    delete http.body;
    delete http.headers['content-type'];
  } else {
    http.body = JSON.stringify(body);
    http.size = String(Buffer.byteLength(http.body));
    http.headers['content-type'] = pick(['application/json', 'application/json; charset=utf-8', 'text/plain']);
  }
  return fromProtoJson(doc);
}

t.test('200 varied requests: identical results from Portcullis and from opa eval', async (t) => {
  const cases: Array<{ input: unknown; result: unknown; allowed: boolean }> = [];
  for (let i = 0; i < 200; i++) {
    const res = await h.client.check(await generate());
    const event = await h.event(decisionIdOf(res));
    t.equal(event.error, undefined, 'no failure: the policy decided');
    cases.push({ input: event.input, result: event.result, allowed: res.status.code === 0 });
  }
  const allowed = cases.filter((c) => c.allowed).length;
  t.ok(allowed >= 20 && allowed <= 180, `a mix of decisions (${allowed} allowed of 200)`);

  await writeFile(join(dir, 'cases.json'), JSON.stringify({ cases: cases.map((c) => c.input) }));
  const { stdout } = await run(OPA, ['eval', '--format', 'json', '--data', join(FIXTURES, 'envoy-policy', 'policy.rego'), '--data', join(dir, 'cases.json'), '[r | some i; x := data.cases[i]; r := {"result": data.envoy.authz.result, "allow": data.envoy.authz.allow} with input as x]'], { maxBuffer: 64 * 1024 * 1024 });
  const opa = JSON.parse(stdout).result[0].expressions[0].value as Array<{ result: unknown; allow: boolean }>;
  t.equal(opa.length, cases.length);
  let same = 0;
  for (const [i, c] of cases.entries()) {
    const reference = opa[i];
    const ok = JSON.stringify(sortKeys(c.result)) === JSON.stringify(sortKeys(reference?.result)) && c.allowed === reference?.allow;
    if (ok) same++;
    else t.fail(`case ${i} differs`, { portcullis: c.result, opa: reference, input: c.input });
  }
  t.equal(same, cases.length, 'every decision identical');
});

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  return v;
}
