// The input document, piece by piece, as opa-envoy-plugin builds it (envoyauth/request.go and protomap.go):
// the expectations are what the plugin gives (test/authz/differential.test.ts compares against it).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { envoyRoot } from '../../src/authz/grpc/protos.js';
import { parseBody } from '../../src/authz/input/body.js';
import { envoyInput } from '../../src/authz/input/document.js';
import { parseMediaType } from '../../src/policy/value/media-type.js';
import { readMultipart } from '../../src/authz/input/multipart.js';
import { parsePath } from '../../src/authz/input/path.js';
import { toProtoMap } from '../../src/authz/input/protomap.js';
import { RawNumber, stringify } from '../../src/policy/value/raw-number.js';
import { FIXTURES } from '../helpers/paths.js';
import { fromProtoJson } from './grpc-client.js';

t.test('parsed_path and parsed_query: cut at "?", url.PathUnescape, url.ParseQuery', async (t) => {
  const cases: Array<[string, string[], Record<string, string[]>]> = [
    ['/api/v1/charges?currency=EUR&dry_run=false', ['api', 'v1', 'charges'], { currency: ['EUR'], dry_run: ['false'] }],
    ['/', [''], {}],
    ['', [''], {}],
    ['/people/', ['people', ''], {}],
    ['//evil.example/b', ['evil.example', 'b'], {}],
    ['///a//b', ['a', '', 'b'], {}],
    ['/a%20b/c%2Fd', ['a b', 'c', 'd'], {}],
    ['/a+b', ['a+b'], {}],
    ['/p#frag?x=1', ['p#frag'], { x: ['1'] }],
    ['/p?x=1#frag', ['p'], { x: ['1#frag'] }],
    ['/p?a=1&a=2&b=x+y&c=%41&&flag', ['p'], { a: ['1', '2'], b: ['x y'], c: ['A'], flag: [''] }],
    ['/p?=v&k=', ['p'], { '': ['v'], k: [''] }],
    ['/p?%E2%9C%93=%F0%9F%9A%80', ['p'], { '✓': ['🚀'] }],
    ['/p?a=1?b=2', ['p'], { a: ['1?b=2'] }],
  ];
  for (const [path, segments, query] of cases) t.strictSame(parsePath(path), { parsed_path: segments, parsed_query: query }, path);
});

t.test('what Go refuses is a request_parse_error with Go\'s message', async (t) => {
  const cases: Array<[string, string]> = [
    ['/a%zz', 'invalid URL escape "%zz"'],
    ['/a%2', 'invalid URL escape "%2"'],
    ['/a%', 'invalid URL escape "%"'],
    ['/p?x=%zz', 'invalid URL escape "%zz"'],
    ['/p?a=1;b=2', 'invalid semicolon separator in query'],
    // A semicolon error wins over an earlier escape error; an escape error never replaces one.
    ['/p?a=%ZZ&b=1;', 'invalid semicolon separator in query'],
    ['/p?b=1;&a=%ZZ', 'invalid semicolon separator in query'],
    ['/p?a=%ZZ&b=%YY', 'invalid URL escape "%ZZ"'],
  ];
  for (const [path, message] of cases) t.throws(() => parsePath(path), { name: 'RequestParseError', message }, path);
});

const json = { 'content-type': 'application/json' };
const form = { 'content-type': 'application/x-www-form-urlencoded' };

t.test('parsed_body by content type, truncation first', async (t) => {
  t.strictSame(parseBody(json, '{"amount": 1250}', undefined), { parsed_body: { amount: 1250 }, truncated_body: false });
  t.strictSame(parseBody({ 'content-type': 'application/json-patch+json' }, '[1]', undefined).parsed_body, [1], 'a substring match, as the plugin does');
  t.strictSame(parseBody({ 'content-type': 'Application/JSON' }, '[1]', undefined).parsed_body, null, 'and a case-sensitive one');
  t.strictSame(parseBody(json, '', undefined), { parsed_body: null, truncated_body: false });
  t.strictSame(parseBody(json, '', Buffer.from('[1,2]').toString('base64')).parsed_body, [1, 2], 'raw_body when body is empty');
  t.strictSame(parseBody({ ...json, 'content-length': '1000' }, '{"a":', undefined), { parsed_body: null, truncated_body: true });
  t.strictSame(parseBody({ ...json, 'content-length': '-1' }, '{}', undefined).truncated_body, false, '-1 is an unknown length');
  t.strictSame(parseBody({ ...json, 'x-envoy-auth-partial-body': 'true' }, '{"a":1}', undefined), { parsed_body: null, truncated_body: true }, 'Envoy says it cut the body');
  t.strictSame(parseBody({ 'x-envoy-auth-partial-body': 'true' }, 'x', undefined).truncated_body, true, 'whatever the content type');
  t.strictSame(parseBody({ ...json, 'x-envoy-auth-partial-body': 'TRUE' }, '{"a":1}', undefined).truncated_body, false, 'only "true"');
  t.strictSame(parseBody(form, 'a=1&a=2&b=x+y', undefined).parsed_body, { a: ['1', '2'], b: ['x y'] });
  t.strictSame(parseBody({ 'content-type': 'text/plain' }, 'hello', undefined).parsed_body, null);
  t.strictSame(parseBody({ 'content-type': 'application/grpc' }, 'x', undefined).parsed_body, null, 'gRPC bodies need a descriptor set, which is not configured');
  t.strictSame(parseBody(undefined, '{"a":1}', undefined).parsed_body, null, 'no content-type, no parsing');
});

t.test('JSON bodies: numbers as written, Go\'s decoder errors and its one-token look past the value', async (t) => {
  const body = (text: string) => parseBody(json, text, undefined).parsed_body;
  const amount = (text: string) => (body(`{"a": ${text}}`) as { a: unknown }).a;
  t.same(amount('1000.00000000000000001'), new RawNumber('1000.00000000000000001'));
  t.same(amount('-1e400'), new RawNumber('-1e400'));
  t.same(amount('10.0'), new RawNumber('10.0'));
  t.same(amount('12345678901234567890'), new RawNumber('12345678901234567890'));
  t.equal(amount('1.5'), 1.5, 'a double where it is exact');
  t.equal(stringify(body('{"a": 1e400, "b": [10.0]}')), '{"a":1e400,"b":[10.0]}', 'and written back as they came');
  t.equal((body('{"s": "\\ud800!"}') as { s: string }).s, '\uFFFD!', 'a lone surrogate becomes U+FFFD as in Go');
  t.strictSame(body('{"a": 1} null'), { a: 1 }, 'a trailing null is the one token Go reads and accepts');
  const errors: Array<[string, string]> = [
    ['{', 'unexpected EOF'],
    [' ', 'EOF'],
    ['{x}', "invalid character 'x' looking for beginning of object key string"],
    ['{"a":}', "invalid character '}' looking for beginning of value"],
    ['{"a" 1}', "invalid character '1' after object key"],
    ['{"a": 1,}', "invalid character '}' looking for beginning of object key string"],
    ['[1, 2', 'unexpected EOF'],
    ['[1 2]', "invalid character '2' after array element"],
    ['{"a": 1} x', "invalid character 'x' looking for beginning of value"],
    ['{"a": 1} {"b": 2}', "error: invalid character '{' after top-level value"],
    ['{"a": 1} "tail"', "error: invalid character 'tail' after top-level value"],
    ['{"a": 1} 7', "error: invalid character '7' after top-level value"],
    ['{"a": 1} true', "error: invalid character '%!s(bool=true)' after top-level value"],
    ['{"a": 1} ]', "invalid character ']' looking for beginning of value"],
    ['nul', 'unexpected EOF'],
    ['nux', "invalid character 'x' in literal null (expecting 'l')"],
    ['01', "error: invalid character '1' after top-level value"],
    ['-', 'unexpected EOF'],
    ['-x', "invalid character 'x' in numeric literal"],
    ['1.x', "invalid character 'x' after decimal point in numeric literal"],
    ['1ex', "invalid character 'x' in exponent of numeric literal"],
    ["{'a': 1}", "invalid character '\\'' looking for beginning of object key string"],
    ['{"a": "\u0001"}', "invalid character '\\x01' in string literal"],
    ['{"a": "\\x"}', "invalid character 'x' in string escape code"],
    ['{"a": "\\u12g4"}', "invalid character 'g' in \\u hexadecimal character escape"],
    ['ü', "invalid character 'Ã' looking for beginning of value"],
  ];
  for (const [text, message] of errors) t.throws(() => body(text), { name: 'RequestParseError', message }, JSON.stringify(text));
  t.throws(() => parseBody({ ...json, 'content-length': 'ten' }, '{}', undefined), { message: 'strconv.ParseInt: parsing "ten": invalid syntax' });
  t.throws(() => parseBody({ ...json, 'content-length': '99999999999999999999' }, '{}', undefined), { message: 'strconv.ParseInt: parsing "99999999999999999999": value out of range' });
  t.throws(() => parseBody(form, 'a=1;b=2', undefined), { message: 'invalid semicolon separator in query' });
});

t.test('multipart forms as Go\'s mime/multipart reads them', async (t) => {
  const type = (b: string) => ({ 'content-type': `multipart/form-data; boundary=${b}` });
  const crlf = (lines: string[]) => lines.join('\r\n');
  const body = crlf(['preamble', '--XyZ', 'Content-Disposition: form-data; name="field"', '', 'value one', '--XyZ', 'Content-Disposition: form-data; name="meta"', 'Content-Type: application/json', '', '{"amount": 10.0}', '--XyZ', 'Content-Disposition: attachment', '', 'no form name: skipped', '--XyZ', 'Content-Disposition: form-data; name="field"', '', 'value two', '--XyZ--', '']);
  t.same(parseBody(type('XyZ'), body, undefined).parsed_body, { field: ['value one', 'value two'], meta: [{ amount: new RawNumber('10.0') }] });
  t.same(parseBody(type('"XyZ"'), body, undefined).parsed_body, { field: ['value one', 'value two'], meta: [{ amount: new RawNumber('10.0') }] }, 'a quoted boundary');
  const lf = ['--b', 'Content-Disposition: form-data; name="x"', '', 'one\r\ntwo', '--b--'].join('\n');
  t.strictSame(parseBody(type('b'), lf, undefined).parsed_body, { x: ['one\r\ntwo'] }, 'bare LF line ends, as Go accepts them');
  t.strictSame(parseBody({ 'content-type': 'multipart/form-data' }, body, undefined).parsed_body, null, 'no boundary: not parsed');
  t.throws(() => parseBody({ 'content-type': 'multipart/form-data; boundary' }, body, undefined), { message: 'mime: invalid media parameter' });
  t.throws(() => parseBody(type('XyZ'), crlf(['--XyZ', 'Content-Disposition: form-data; name="x"', '', 'never closed']), undefined), { message: 'unexpected EOF' });
  t.throws(() => parseBody(type('nope'), body, undefined), { message: 'multipart: NextPart: EOF' });
  t.throws(() => parseBody(type('XyZ'), crlf(['--XyZ', 'Content-Disposition: form-data; name="m"', 'Content-Type: application/json', '', '{"a":', '--XyZ--']), undefined), { message: 'unexpected EOF' });
  t.strictSame(readMultipart(Buffer.from(crlf(['--q', 'Content-Disposition: form-data; name="qp"', 'Content-Transfer-Encoding: quoted-printable', '', 'caf=C3=A9', '--q--'])), 'q').map((p) => p.value.toString()), ['café'], 'quoted-printable decoded');
  t.strictSame(parseMediaType('Multipart/Form-Data; Boundary="a b"; x=1;'), { type: 'multipart/form-data', params: { boundary: 'a b', x: '1' } });
  t.throws(() => parseMediaType('multipart/form-data; a=1; a=2'), { message: 'mime: duplicate parameter name' });
  t.throws(() => parseMediaType('/form'), { message: 'mime: no media type' });
});

t.test('a decoded CheckRequest becomes the document opa-envoy-plugin hands its policies (protomap)', async (t) => {
  const doc = JSON.parse(await readFile(join(FIXTURES, 'authz', 'check-jwt-mtls.json'), 'utf8'));
  doc.attributes.metadata_context = { filter_metadata: { 'envoy.filters.http.jwt_authn': { fields: { sub: { stringValue: 'alice' }, exp: { numberValue: 1569026124 }, n: { numberValue: 0.5 }, l: { listValue: { values: [{ boolValue: true }, { nullValue: 0 }] } } } } } };
  doc.attributes.source.address.socket_address.protocol = 'UDP';
  doc.attributes.request.http.raw_body = Buffer.from('raw!');
  const type = envoyRoot().lookupType('envoy.service.auth.v3.CheckRequest');
  const bytes = type.encode(type.fromObject(fromProtoJson(doc) as object)).finish();
  const json = toProtoMap(type, type.decode(bytes)) as { attributes: Record<string, any> };
  const a = json.attributes;
  t.strictSame(a.source.address, { socketAddress: { address: '10.44.1.17', portValue: 51234, protocol: 1 } }, 'lowerCamelCase names, numbers, the enum by its number');
  t.strictSame(a.request.time, { seconds: 1795515330, nanos: 123456000 }, 'a Timestamp is its seconds and nanos');
  t.equal(a.request.http.size, 57, 'int64 as a number');
  t.equal(a.request.http.id, '13359530607844510314');
  t.equal(a.request.http.rawBody, 'cmF3IQ==', 'bytes in base64');
  t.strictSame(a.contextExtensions, { virtual_host: 'payment-service' }, 'map keys untouched');
  t.same(a.metadataContext.filterMetadata['envoy.filters.http.jwt_authn'], { sub: 'alice', exp: new RawNumber('1.569026124e+09'), n: 0.5, l: [true, null] }, 'Struct as plain JSON, numbers as Go prints a float64');
  t.notOk('destination' in a && 'service' in a.destination, 'empty strings are unset');

  const input = envoyInput(json);
  t.strictSame(input.version, { encoding: 'protojson', ext_authz: 'v3' });
  t.strictSame(input.parsed_path, ['api', 'v1', 'charges']);
  t.strictSame(input.parsed_query, { currency: ['EUR'], dry_run: ['false'] });
  t.strictSame(input.parsed_body, { amount: 1250, currency: 'EUR', customer: 'c_8812' });
  t.equal(input.truncated_body, false);
  t.equal(input.source_principal, 'spiffe://cluster.local/ns/frontend/sa/web', 'the source principal, where policies look for it');
});

t.test('a CheckRequest without HTTP attributes still has an input', async (t) => {
  t.strictSame(envoyInput({}), { version: { encoding: 'protojson', ext_authz: 'v3' }, parsed_path: [''], parsed_query: {}, parsed_body: null, truncated_body: false });
  t.strictSame(envoyInput({ attributes: { request: { http: {} } } }).parsed_path, ['']);
  t.throws(() => envoyInput({ attributes: { request: { http: { path: '/%' } } } }), { name: 'RequestParseError', message: 'invalid URL escape "%"' });
});
