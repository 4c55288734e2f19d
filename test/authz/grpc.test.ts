// The gRPC door against a real client built from Envoy's published protos: answers, audit, limits, failures.
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import t from 'tap';
import { healthDefinition } from '../../src/authz/grpc/health.js';
import { FIXTURES } from '../helpers/paths.js';
import { testBundle } from './bundles.js';
import { fromProtoJson } from './grpc-client.js';
import { decisionIdOf, startAuthz } from './harness.js';
import { AUDIENCE, ISSUER, sign, testKey, type TestKey } from './issuer.js';

const dir = await mkdtemp(join(tmpdir(), 'portcullis-grpc-test-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const bundle = await testBundle(dir);
const key = await testKey('k1');
const fixture = JSON.parse(await readFile(join(FIXTURES, 'authz', 'check-jwt-mtls.json'), 'utf8'));

function issuerConfig(k: TestKey) {
  return { issuers: [{ issuer: ISSUER, audiences: [AUDIENCE], jwks: { keys: [k.jwk] }, forwardClaims: { sub: 'x-user' } }] };
}

/** The fixture request with a token (or none) and another path or method. */
function request(options: { token?: string; path?: string; method?: string; headers?: Record<string, string> } = {}) {
  const doc = structuredClone(fixture);
  const http = doc.attributes.request.http;
  if (options.token === undefined) delete http.headers.authorization;
  else http.headers.authorization = `Bearer ${options.token}`;
  if (options.path) http.path = http.headers[':path'] = options.path;
  if (options.method) http.method = http.headers[':method'] = options.method;
  Object.assign(http.headers, options.headers);
  return fromProtoJson(doc);
}

const headerMap = (list: Array<{ header: { key: string; value: string } }> | undefined) => Object.fromEntries((list ?? []).map((h) => [h.header.key, h.header.value]));

t.test('opa-envoy-plugin policy: allow with headers upstream, 401 and 403 denials, audit events', async (t) => {
  const h = await startAuthz({ bundle, authz: { entrypoint: 'envoy/authz/result', jwt: issuerConfig(key) } });
  t.teardown(() => h.close());

  const token = await sign(key, { scope: 'charges:write read' });
  const ok = await h.client.check(request({ token }));
  t.equal(ok.status.code, 0, 'OK');
  t.ok(ok.ok_response, 'an OkHttpResponse');
  t.strictSame(headerMap(ok.ok_response?.headers), { 'x-ext-authz-subject': 'user-1', 'x-user': 'user-1' }, 'policy header and forwarded claim');
  const id = decisionIdOf(ok);
  t.match(id, /^[0-9a-f-]{36}$/, 'decision id in dynamic metadata');
  const event = await h.event(id);
  t.match(event, { kind: 'authz', decision: 'allow', path: 'envoy/authz/result', bundles: { authz: { revision: 'test' } }, authz: { principal: 'spiffe://cluster.local/ns/frontend/sa/web', method: 'POST', path: '/api/v1/charges?currency=EUR&dry_run=false', status: 200, allowed: true, transport: 'grpc' } });
  t.equal((event.input as any).attributes.request.http.headers.authorization, '**REDACTED**', 'the token never reaches the audit log');
  t.match((event.input as any).mesh, { jwt: { verified: true, issuer: ISSUER, claims: { sub: 'user-1' } }, source: { namespace: 'frontend', service_account: 'web', country: 'internal' } });
  const { timer_rego_eval_ns: evalNs = 0, timer_server_handler_ns: handlerNs = 0 } = event.metrics;
  t.ok(evalNs > 0 && handlerNs >= evalNs, 'OPA-style timers');

  const forbidden = await h.client.check(request({ token: await sign(key, { scope: 'read' }) }));
  t.equal(forbidden.status.code, 7, 'PERMISSION_DENIED');
  t.equal(forbidden.denied_response?.status.code, 403);
  t.equal((await h.event(decisionIdOf(forbidden))).decision, 'deny');

  const anonymous = await h.client.check(request());
  t.equal(anonymous.denied_response?.status.code, 401, 'no token: 401 from the policy');
  t.match((await h.event(decisionIdOf(anonymous))).input, { mesh: { jwt: { verified: false, error: 'missing' } } });

  const pub = await h.client.check(request({ path: '/api/v1/products/42', method: 'GET' }));
  t.equal(pub.status.code, 0, 'public route allowed without a token');
  t.strictSame(pub.ok_response?.headers_to_remove, ['x-user'], 'a forwarded-claim header the caller could have set is stripped');

  const metrics = await h.service.ctx.metrics.registry.metrics();
  t.match(metrics, /portcullis_decisions_total\{front_door="authz",result="allow",via="grpc"\} 2/);
  t.match(metrics, /portcullis_decisions_total\{front_door="authz",result="deny",via="grpc"\} 2/);
  t.match(metrics, /portcullis_policy_evaluation_duration_seconds_count\{entrypoint="envoy\/authz\/result"\} 4/);
  t.match(metrics, /portcullis_request_duration_seconds_count\{front_door="authz",via="grpc"\} 4/);
});

t.test('every field of an object result reaches the CheckResponse; rate limits answer 429', async (t) => {
  const h = await startAuthz({ bundle, authz: { entrypoint: 'results/decision' } });
  t.teardown(() => h.close());

  const payment = await h.client.check(request({ path: '/payment' }));
  t.equal(payment.status.code, 7);
  t.equal(payment.denied_response?.status.code, 402);
  t.equal(payment.denied_response?.body, 'pay first');
  t.strictSame(headerMap(payment.denied_response?.headers), { 'x-why': 'unpaid', 'content-type': 'text/plain' });
  t.equal((await h.event(decisionIdOf(payment))).authz?.reason, 'payment route', 'the reason goes to the audit log');
  const teapot = await h.client.check(request({ path: '/teapot' }));
  t.equal(teapot.denied_response?.status.code, 403, 'a status Envoy cannot carry fails the decision (closed)');
  t.match(await h.event(decisionIdOf(teapot)), { decision: 'error', error: 'invalid HTTP status code 418' });

  const first = await h.client.check(request({ path: '/limited' }));
  t.equal(first.status.code, 0);
  t.strictSame(headerMap(first.ok_response?.headers), { 'x-from-policy': '1' });
  t.strictSame(headerMap(first.ok_response?.response_headers_to_add), { 'x-served-by': 'portcullis' });
  t.strictSame(first.ok_response?.headers_to_remove, ['cookie']);
  t.equal(first.dynamic_metadata?.fields.tier?.stringValue, 'gold');
  t.equal((await h.client.check(request({ path: '/limited' }))).status.code, 0, 'burst of 2');
  const limited = await h.client.check(request({ path: '/limited' }));
  t.equal(limited.status.code, 7);
  t.equal(limited.denied_response?.status.code, 429);
  t.equal(headerMap(limited.denied_response?.headers)['retry-after'], '1');
  const event = await h.event(decisionIdOf(limited));
  t.match(event, { decision: 'deny', authz: { status: 429, reason: /^rate limit limited:10\.44\.1\.17: 60\/min, burst 2$/ } });
  t.equal((await h.client.check(request({ path: '/open' }))).status.code, 0, 'other keys are not limited');
});

t.test('malformed requests are answered 400 and audited as errors', async (t) => {
  const h = await startAuthz({ bundle, authz: { entrypoint: 'results/decision' } });
  t.teardown(() => h.close());

  const garbage = await h.client.raw(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]));
  t.equal(garbage.status.code, 7);
  t.equal(garbage.denied_response?.status.code, 400);
  t.match(garbage.denied_response?.body, /^malformed request: CheckRequest does not decode: /, 'the body says what was wrong');
  const e1 = await h.event(decisionIdOf(garbage));
  t.match(e1, { decision: 'error', error: /CheckRequest does not decode/, authz: { status: 400, allowed: false } });

  // Without HTTP attributes opa-envoy-plugin still builds an input (parsed_path [""]) and evaluates it.
  const empty = await h.client.check({});
  t.equal(empty.denied_response?.status.code, 403, 'no attributes: evaluated, and this policy has no decision for it');
  t.match(await h.event(decisionIdOf(empty)), { error: 'undefined decision', input: { parsed_path: [''], parsed_query: {}, parsed_body: null, truncated_body: false } });

  // What Go cannot parse is answered as opa-envoy-plugin answers it: 400 request_parse_error, no metadata.
  const badPath = await h.client.check(request({ path: '/open/%zz' }));
  t.match(badPath, { status: { code: 7, message: 'request_parse_error: invalid URL escape "%zz"' }, denied_response: { status: { code: 400 }, body: 'request_parse_error: invalid URL escape "%zz"' } });
  t.equal(decisionIdOf(badPath), '', 'without dynamic metadata, as the plugin answers');
  t.match(await h.eventWhere((e) => e.authz?.path === '/open/%zz'), { decision: 'error', error: 'invalid URL escape "%zz"', authz: { status: 400 } });
  const doc = request({ path: '/open', headers: { 'content-type': 'application/json', 'content-length': '3' } }) as any;
  doc.attributes.request.http.body = '{x}';
  const badBody = await h.client.check(doc);
  t.match(badBody, { status: { code: 7 }, denied_response: { status: { code: 400 }, body: "request_parse_error: invalid character 'x' looking for beginning of object key string" } }, 'a JSON body that is not JSON, with Go\'s message');

  t.equal((await h.client.check(request({ path: '/open' }))).status.code, 0, 'and the server still answers');
});

t.test('failure mode: deny by default, allow when configured, the reason always in the audit log', async (t) => {
  const deny = await startAuthz({ bundle, authz: { entrypoint: 'results/decision' } });
  t.teardown(() => deny.close());
  const broken = await deny.client.check(request({ path: '/broken' }));
  t.equal(broken.status.code, 7);
  t.equal(broken.denied_response?.status.code, 403);
  t.equal(broken.denied_response?.body, 'access denied', 'nothing about the failure leaks to the caller');
  t.match(await deny.event(decisionIdOf(broken)), { decision: 'error', error: '"allowed" is not a boolean', authz: { reason: /^failure mode deny \(invalid decision\)/ } });
  const undef = await deny.client.check(request({ path: '/nothing-matches' }));
  t.equal(undef.denied_response?.status.code, 403, 'an undefined decision fails closed');

  const allow = await startAuthz({ bundle, authz: { entrypoint: 'results/decision', failureMode: 'allow' } });
  t.teardown(() => allow.close());
  const open = await allow.client.check(request({ path: '/broken' }));
  t.equal(open.status.code, 0, 'failureMode allow lets it through');
  t.match(await allow.event(decisionIdOf(open)), { decision: 'error', authz: { allowed: true, reason: /^failure mode allow/ } });

  const missing = await startAuthz({ bundle, authz: { entrypoint: 'no/such/entrypoint' } });
  t.teardown(() => missing.close());
  const none = await missing.client.check(request({ path: '/open' }));
  t.equal(none.denied_response?.status.code, 403, 'no bundle provides the entrypoint: deny');
  t.match(await missing.event(decisionIdOf(none)), { error: /no active bundle provides this entrypoint/ });
  t.equal((await missing.client.health('')).status, 'NOT_SERVING', 'and health says so');
});

t.test('a CheckRequest over grpc.maxMessageBytes is refused by the transport', async (t) => {
  const h = await startAuthz({ bundle, authz: { entrypoint: 'results/decision', grpc: { maxMessageBytes: 4096 } } });
  t.teardown(() => h.close());
  const big = request({ path: '/open', headers: { 'x-padding': 'p'.repeat(8000) } });
  await t.rejects(h.client.check(big), { code: grpc.status.RESOURCE_EXHAUSTED });
  t.equal((await h.client.check(request({ path: '/open' }))).status.code, 0, 'a normal one still passes');
});

t.test('health service', async (t) => {
  const h = await startAuthz({ bundle, authz: { entrypoint: 'results/decision' } });
  t.teardown(() => h.close());
  t.equal((await h.client.health('')).status, 'SERVING');
  t.equal((await h.client.health('envoy.service.auth.v3.Authorization')).status, 'SERVING');
  await t.rejects(h.client.health('some.Other'), { code: grpc.status.NOT_FOUND });

  const Health = grpc.makeGenericClientConstructor(healthDefinition(), 'Health');
  const watcher = new Health(`127.0.0.1:${h.grpcPort}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & { Watch(req: { service: string }): grpc.ClientReadableStream<{ status: string }> };
  const stream = watcher.Watch({ service: '' });
  const first = await new Promise<{ status: string }>((resolve, reject) => {
    stream.once('data', resolve);
    stream.once('error', reject);
  });
  t.equal(first.status, 'SERVING', 'Watch streams the current status first');
  stream.cancel();
  watcher.close();
});

t.test('deadlines: the caller gives up first, or the server answers with the failure mode in time', async (t) => {
  // A JWKS endpoint that accepts connections and never answers.
  const sockets: Socket[] = [];
  const blackhole: Server = createServer((s) => sockets.push(s));
  await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    blackhole.close();
  });
  const port = (blackhole.address() as { port: number }).port;
  const slowIssuer = { issuers: [{ issuer: ISSUER, audiences: [AUDIENCE], jwksUri: `https://127.0.0.1:${port}/jwks.json` }], jwksTimeoutMs: 20000, jwksMinRefreshSeconds: 0 };
  const h = await startAuthz({ bundle, authz: { entrypoint: 'envoy/authz/result', timeoutMs: 400, jwt: slowIssuer } });
  t.teardown(() => h.close());
  const token = await sign(key, { scope: 'charges:write' });

  const started = Date.now();
  await t.rejects(h.client.check(request({ token }), { deadlineMs: 150 }), { code: grpc.status.DEADLINE_EXCEEDED }, 'the client deadline passes while keys are fetched');
  t.ok(Date.now() - started < 1000);

  const answered = await h.client.check(request({ token }));
  t.equal(answered.status.code, 7, 'authz.timeoutMs: denied, not hung');
  t.equal(answered.denied_response?.status.code, 403);
  t.match(await h.event(decisionIdOf(answered)), { decision: 'error', error: /deadline exceeded while fetching the keys of/, authz: { reason: /failure mode deny \(timeout\)/ } });
});
