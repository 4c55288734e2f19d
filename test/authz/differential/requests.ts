// Generated CheckRequests for the differential test: what Envoy can send, ordinary and odd, with tokens
// signed for each policy (HS256 "secret" for OPA's tutorial and primer, RS256 from the test issuer) and
// ones that must fail. Deterministic: a seed replays a failure.
import { createHmac } from 'node:crypto';
import { AUDIENCE, ISSUER, sign, unsigned, type TestKey } from '../issuer.js';

export interface Generated {
  /** What the request is, for failure messages. */
  label: string;
  request: Record<string, unknown>;
}

export function random(seed: number): { next(): number; pick<T>(xs: readonly T[]): T; chance(p: number): boolean } {
  let s = seed >>> 0;
  const next = () => {
    // mulberry32
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, pick: (xs) => xs[Math.floor(next() * xs.length)] as (typeof xs)[number], chance: (p) => next() < p };
}

const b64url = (s: string | Buffer) => Buffer.from(s).toString('base64url');

/** An HS256 token signed with `secret` over exactly these header and claims. */
export function hs256(claims: Record<string, unknown>, secret = 'secret', header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }): string {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

const now = () => Math.floor(Date.now() / 1000);
const NAMES = ['alice', 'bob', 'charlie', 'Charlie', 'ümit', 'a+b/c?'];

/** Tokens of the OPA tutorial: role, base64 of a name as sub, nbf and exp; half of them good ones. */
function tutorialToken(r: ReturnType<typeof random>, good = r.chance(0.5)): string {
  const name = r.pick(NAMES);
  if (good) return hs256({ role: r.pick(['guest', 'admin']), sub: Buffer.from(name).toString('base64'), nbf: 1514851139, exp: 2062840610 });
  const sub = r.pick([Buffer.from(name).toString('base64'), b64url(name), Buffer.from(name).toString('base64').replace(/=+$/, ''), 'not base64!', 'YQ', 'YWJj=', 'Y']);
  const claims: Record<string, unknown> = { role: r.pick(['guest', 'admin', 'admin', 'user']), sub };
  if (r.chance(0.9)) claims.nbf = r.pick([1514851139, now() - 60, now() + 3600, '1514851139']);
  if (r.chance(0.9)) claims.exp = r.pick([2062840610, now() + 3600, now() - 60, 4102444800.5]);
  const secret = r.chance(0.85) ? 'secret' : 'wrong';
  const header: Record<string, unknown> = r.chance(0.7) ? { alg: 'HS256', typ: 'JWT' } : r.pick([{ alg: 'HS256' }, { alg: 'HS384', typ: 'JWT' }, { alg: 'none', typ: 'JWT' }, { alg: 'HS256', typ: 'JWT', crit: ['exp'] }, { alg: 'HS256', kid: 'k', cty: 'text' }]);
  return hs256(claims, secret, header);
}

async function issuerToken(r: ReturnType<typeof random>, key: TestKey): Promise<string> {
  const claims: Record<string, unknown> = { scope: r.pick(['orders:write', 'orders:read', '']), role: r.pick(['admin', 'user']), sub: r.pick(['user-1', 'user-2', 'bob']) };
  if (r.chance(0.15)) claims.aud = r.pick(['other', ['payments', 'x'], ['x']]);
  if (r.chance(0.1)) claims.iss = 'https://other.example';
  if (r.chance(0.1)) claims.exp = now() - 10;
  if (r.chance(0.05)) claims.nbf = now() + 3600;
  if (r.chance(0.1)) return unsigned({ ...claims, iss: ISSUER, aud: AUDIENCE });
  return sign(key, claims, r.chance(0.1) ? { kid: 'unknown-kid' } : {});
}

const MALFORMED_TOKENS = ['abc', 'a.b', 'a.b.c', 'eyJhbGciOiJIUzI1NiJ9.e30.', 'eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln', 'eyJ.eyJ.x', '..', `${b64url('{"alg":"HS256","enc":"A128GCM"}')}.${b64url('{}')}.x`];

function basic(r: ReturnType<typeof random>): string {
  const user = r.pick(['alice', 'bob', 'eve', 'bob?']);
  const credentials = `${user}:${r.pick(['password', 'p>?x', 'secret'])}`;
  return r.pick([Buffer.from(credentials).toString('base64'), b64url(credentials), Buffer.from(credentials).toString('base64').replace(/=+$/, ''), `${Buffer.from(credentials).toString('base64')}\n`, '%%%']);
}

const PATHS = [
  '/people',
  '/people/',
  '/people/123',
  '//people',
  '/people?lang=en&id=1&id=2',
  '/people#frag',
  '/people?x=1#frag',
  '/pe%6Fple',
  '/people%2Fsub',
  '/a%2Fb/c',
  '/%E2%9C%93/%C3%BC',
  '/people?x=%zz',
  '/people%zz',
  '/people%2',
  '/people?a=1;b=2',
  '/people?x=a+b&y=%20&z=',
  '/people?',
  '/?=&&=x',
  '/productpage',
  '/api/v1/products',
  '/health',
  '/health/',
  '/public/index.html',
  '/public/../private',
  '/api/orders',
  '/api/orders?debug=1',
  '/upload',
  '/people?role=admin',
  '/people?role=user&role=admin',
  '/people?tag=a&tag=b',
  '/people?echo=hello%20world',
  '/people?echo=%0D%0Ainjected:%201',
  '/people?debug=true&tag=x',
  '',
  '/',
  'people',
  '/people?%E2%9C%93=%F0%9F%9A%80',
  '/people?a=%2',
  '/people?a=%ZZ&b=1;',
  '/a b/c',
  '/people?q=%7B%22a%22%3A1%7D',
];

const COMMON_PATHS = ['/people', '/people', '/people', '/people', '/people/123', '/people/alice', '/productpage', '/api/v1/products', '/health', '/api/orders', '/public/index.html', '/upload'];

const METHODS = ['GET', 'GET', 'GET', 'GET', 'GET', 'POST', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'get', 'CUSTOM'];

const JSON_BODIES = [
  '{"firstname": "Charlie", "lastname": "Opa"}',
  '{"firstname": "ALICE"}',
  '{"firstname": "Bob"}',
  '{"amount": 5}',
  '{"amount": 1000}',
  '{"amount": 1000.5}',
  '{"amount": 1000.00000000000000001}',
  '{"amount": 999.99999999999999999}',
  '{"amount": 1e3}',
  '{"amount": 10.0}',
  '{"amount": -0}',
  '{"amount": 12345678901234567890}',
  '{"amount": 1e400}',
  '{"amount": -1e400}',
  '{"amount": 1E-400}',
  '{"amount": "7"}',
  '{"items": [{"sku": "free"}, {"sku": "paid"}]}',
  '{"items": []}',
  '[1, 2, 3]',
  '"just a string"',
  '42',
  'null',
  '{"a": {"b": {"c": [1, {"d": null}]}}}',
  '{"a": 1, "a": 2}',
  '{"__proto__": {"x": 1}, "amount": 3}',
  '{"s": "\\ud800 lone", "amount": 1}',
  '{',
  '{"a":}',
  '{"a": 1} x',
  '{"a": 1} null',
  '{"a": 1} {"b": 2}',
  '{"a": 1} "tail"',
  '{"a": 1} 7',
  '{"a": 1} true',
  '{"a": 1} ]',
  '[1, 2',
  'nul',
  'tru',
  '01',
  '-',
  '1.',
  '{"a": 1,}',
  '{"a" 1}',
  "{'a': 1}",
  '{"a": "\u0001"}',
  '{"a": "\\x"}',
  '{"a": "\\u12g4"}',
  ' ',
  '\t{"amount": 2}\n',
];

const FORM_BODIES = ['token=letmein', 'token=nope', 'a=1&a=2&b=x+y', 'a=%zz', 'a=1;b=2', '=v&&x', 'token=let%6Dein', 'k=%E2%9C%93', 'a=%2'];

const JSON_TYPES = ['application/json', 'application/json; charset=utf-8', 'Application/JSON', 'application/json-patch+json', 'text/json'];

function multipart(r: ReturnType<typeof random>): { type: string; body: string } {
  const boundary = r.pick(['XyZ', 'a-b_c.d', '----WebKitFormBoundary7MA4YWxkTrZu0gW', 'q"b']);
  const nl = r.chance(0.15) ? '\n' : '\r\n';
  const parts: string[] = [];
  const n = 1 + Math.floor(r.next() * 3);
  for (let i = 0; i < n; i++) {
    const kind = r.pick(['text', 'file', 'json', 'badjson', 'noname', 'qp']);
    if (kind === 'text') parts.push(`Content-Disposition: form-data; name="field${i}"${nl}${nl}value ${i}`);
    else if (kind === 'file') parts.push(`Content-Disposition: form-data; name="file"; filename="a.txt"${nl}Content-Type: text/plain${nl}${nl}file contents${nl}with lines`);
    else if (kind === 'json') parts.push(`Content-Disposition: form-data; name="meta"${nl}Content-Type: application/json${nl}${nl}{"amount": 1000.00000000000000001, "tags": ["a"]}`);
    else if (kind === 'badjson') parts.push(`Content-Disposition: form-data; name="meta"${nl}Content-Type: application/json${nl}${nl}{"broken": `);
    else if (kind === 'noname') parts.push(`Content-Disposition: attachment${nl}${nl}ignored`);
    else parts.push(`Content-Disposition: form-data; name="qp"${nl}Content-Transfer-Encoding: quoted-printable${nl}${nl}caf=C3=A9 =${nl}soft`);
  }
  const quoted = boundary.includes('"') ? `"${boundary.replace(/"/g, '\\"')}"` : r.chance(0.3) ? `"${boundary}"` : boundary;
  let body = r.chance(0.2) ? `preamble${nl}` : '';
  body += parts.map((p) => `--${boundary}${nl}${p}${nl}`).join('');
  const ending = r.pick(['final', 'final', 'final', 'none', 'garbage', 'bare']);
  if (ending === 'final') body += `--${boundary}--${nl}`;
  else if (ending === 'garbage') body += `--${boundary}--${nl}epilogue`;
  else if (ending === 'bare') body += `--${boundary}--`;
  const type = r.pick([`multipart/form-data; boundary=${quoted}`, `multipart/form-data; boundary=${quoted}; charset=utf-8`, 'multipart/form-data', 'multipart/form-data; boundary', `multipart/form-data;boundary=${quoted};`, `multipart/form-data; boundary=${quoted}; boundary=other`]);
  return { type, body };
}

/** One CheckRequest, as the plain object protobufjs encodes (field names as in the .proto). */
export async function generate(r: ReturnType<typeof random>, key: TestKey, index: number): Promise<Generated> {
  // One in six is a request the tutorial's policy allows when nothing else spoils it (a reader of /people
  // with a good token), so its allow path is compared as often as its denials.
  const tutorial = r.chance(1 / 6);
  const method = tutorial ? r.pick(['GET', 'GET', 'POST']) : r.pick(METHODS);
  // Most requests go where the policies allow something, so both outcomes are common.
  const path = tutorial ? '/people' : r.chance(0.55) ? r.pick(COMMON_PATHS) : r.pick(PATHS);
  const headers: Record<string, string> = { ':authority': 'example.com', ':method': method, ':path': path, 'user-agent': 'curl/8.5.0', 'x-request-id': `req-${index}` };
  const labels: string[] = [`#${index}`, method, JSON.stringify(path)];
  const auth = r.next();
  if (tutorial) headers.authorization = `Bearer ${tutorialToken(r, true)}`;
  else if (auth < 0.4) headers.authorization = `Bearer ${tutorialToken(r)}`;
  else if (auth < 0.6) headers.authorization = `${r.pick(['Bearer', 'Bearer', 'bearer'])} ${await issuerToken(r, key)}`;
  else if (auth < 0.7) headers.authorization = `Basic ${basic(r)}`;
  else if (auth < 0.78) headers.authorization = r.pick([`Bearer ${r.pick(MALFORMED_TOKENS)}`, 'Bearer', `Bearer  ${tutorialToken(r)}`, tutorialToken(r)]);
  if (headers.authorization) labels.push(`auth ${headers.authorization.slice(0, 24)}…`);
  const http: Record<string, unknown> = { id: String(1000 + index), method, path, host: 'example.com', scheme: r.pick(['http', 'https']), protocol: r.pick(['HTTP/1.1', 'HTTP/2']) };
  const bodyKind = r.next();
  let body: string | undefined;
  if (bodyKind < 0.3) {
    headers['content-type'] = r.pick(JSON_TYPES);
    body = r.pick(JSON_BODIES);
  } else if (bodyKind < 0.42) {
    headers['content-type'] = r.pick(['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=utf-8']);
    body = r.pick(FORM_BODIES);
  } else if (bodyKind < 0.55) {
    const m = multipart(r);
    headers['content-type'] = m.type;
    body = m.body;
  } else if (bodyKind < 0.6) {
    headers['content-type'] = r.pick(['text/plain', 'application/grpc', 'application/octet-stream']);
    body = r.pick(['hello', '{"amount": 1}', '']);
  } else if (bodyKind < 0.65) {
    body = '{"amount": 3}';
  }
  if (body !== undefined) {
    labels.push(`${headers['content-type'] ?? 'no type'} ${JSON.stringify(body.slice(0, 40))}`);
    const length = Buffer.byteLength(body);
    const cl = r.next();
    if (cl < 0.5) headers['content-length'] = String(length);
    else if (cl < 0.6) headers['content-length'] = String(length + 10);
    else if (cl < 0.65) headers['content-length'] = r.pick(['abc', '-1', ' 5', '+3', '99999999999999999999', '']);
    else if (cl < 0.7) headers['content-length'] = String(Math.max(0, length - 1));
    if (r.chance(0.08)) headers['x-envoy-auth-partial-body'] = r.pick(['true', 'false', 'TRUE']);
    if (r.chance(0.15)) http.raw_body = Buffer.from(body);
    else http.body = body;
    http.size = String(length);
  }
  for (let i = 0, n = Math.floor(r.next() * 3); i < n; i++) headers[`x-extra-${i}`] = r.pick(['1', 'a b', '', 'ümlaut', '"quoted"']);
  http.headers = headers;
  const source: Record<string, unknown> = { address: { socket_address: { address: r.pick(['10.44.1.17', '203.0.113.9', '::1']), port_value: 40000 + index } } };
  if (r.chance(0.6)) source.principal = r.pick(['spiffe://cluster.local/ns/frontend/sa/web', 'spiffe://cluster.local/ns/other/sa/default', 'not-spiffe']);
  if (r.chance(0.1)) source.certificate = '-----BEGIN%20CERTIFICATE-----%0AMIIB%0A-----END%20CERTIFICATE-----%0A';
  const attributes: Record<string, unknown> = {
    source,
    destination: { address: { socket_address: { address: '10.44.3.9', port_value: 8080 } }, principal: 'spiffe://cluster.local/ns/payments/sa/api' },
    request: { time: { seconds: 1795515330 + index, nanos: r.pick([0, 123456000, 1]) }, http },
  };
  if (r.chance(0.3)) attributes.context_extensions = { tier: r.pick(['internal', 'external']), virtual_host: 'vh' };
  if (r.chance(0.2)) {
    attributes.metadata_context = {
      filter_metadata: {
        'envoy.filters.http.jwt_authn': { fields: { verified_jwt: { structValue: { fields: { email: { stringValue: 'alice@example.com' }, exp: { numberValue: 1569026124 }, groups: { listValue: { values: [{ stringValue: 'a' }, { boolValue: true }, { nullValue: 0 }] } } } } } } },
      },
    };
  }
  if (r.chance(0.1)) attributes.tls_session = { sni: 'example.com' };
  return { label: labels.join(' '), request: { attributes } };
}
