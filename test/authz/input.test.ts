// The input document, piece by piece, against what opa-envoy-plugin (Go's url.Parse, protojson) produces.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { envoyRoot } from '../../src/authz/grpc/protos.js';
import { parseBody } from '../../src/authz/input/body.js';
import { envoyInput } from '../../src/authz/input/document.js';
import { parsePath } from '../../src/authz/input/path.js';
import { toProtoJson } from '../../src/authz/input/protojson.js';
import { FIXTURES } from '../helpers/paths.js';
import { fromProtoJson } from './grpc-client.js';

t.test('parsed_path and parsed_query as Go url.Parse and URL.Query() give them', async (t) => {
  t.strictSame(parsePath('/api/v1/charges?currency=EUR&dry_run=false'), { parsed_path: ['api', 'v1', 'charges'], parsed_query: { currency: ['EUR'], dry_run: ['false'] } });
  t.strictSame(parsePath('/').parsed_path, ['']);
  t.strictSame(parsePath('').parsed_path, ['']);
  t.strictSame(parsePath('/people/').parsed_path, ['people', '']);
  t.strictSame(parsePath('//evil.example/b').parsed_path, ['b'], '"//host" is an authority for url.Parse; the rest is the path');
  t.strictSame(parsePath('///a//b').parsed_path, ['a', '', 'b']);
  t.strictSame(parsePath('http://example.com/x/y?z=1').parsed_path, ['x', 'y']);
  t.strictSame(parsePath('/a%20b/c%2Fd').parsed_path, ['a b', 'c', 'd'], 'split after unescaping, as Go splits URL.Path');
  t.strictSame(parsePath('/p#frag?x=1'), { parsed_path: ['p'], parsed_query: {} });
  t.strictSame(parsePath('/p?a=1&a=2&b=x+y&c=%41&bad=%zz&semi=1;2&&flag').parsed_query, { a: ['1', '2'], b: ['x y'], c: ['A'], flag: [''] }, 'unreadable pairs dropped, the rest kept');
  t.strictSame(parsePath('/p?%E2%9C%93=%F0%9F%9A%80').parsed_query, { '✓': ['🚀'] });
  t.throws(() => parsePath('/a%zz'), { name: 'PathError' });
  t.throws(() => parsePath('/a\nb'), { name: 'PathError' });
});

t.test('parsed_body: JSON and forms parsed, truncation detected, anything else left alone', async (t) => {
  const json = { 'content-type': 'application/json; charset=utf-8' };
  t.strictSame(parseBody(json, '{"amount": 1250}', undefined), { parsed_body: { amount: 1250 }, truncated_body: false });
  t.strictSame(parseBody(json, '', undefined), { parsed_body: null, truncated_body: false });
  t.strictSame(parseBody(json, '', Buffer.from('[1,2]').toString('base64')), { parsed_body: [1, 2], truncated_body: false }, 'raw_body when body is empty');
  t.strictSame(parseBody({ ...json, 'content-length': '1000' }, '{"a":', undefined), { parsed_body: null, truncated_body: true });
  t.throws(() => parseBody(json, '{"a":', undefined), { name: 'BodyError' });
  t.throws(() => parseBody({ ...json, 'content-length': 'ten' }, '{}', undefined), { name: 'BodyError' });
  t.strictSame(parseBody({ 'content-type': 'application/x-www-form-urlencoded' }, 'a=1&a=2&b=x+y', undefined), { parsed_body: { a: ['1', '2'], b: ['x y'] }, truncated_body: false });
  t.throws(() => parseBody({ 'content-type': 'application/x-www-form-urlencoded' }, 'a=1;b=2', undefined), { name: 'BodyError' });
  t.strictSame(parseBody({ 'content-type': 'text/plain' }, 'hello', undefined), { parsed_body: null, truncated_body: false });
  t.strictSame(parseBody(undefined, '{"a":1}', undefined), { parsed_body: null, truncated_body: false }, 'no content-type, no parsing');
});

t.test('a decoded CheckRequest becomes the protojson document opa-envoy-plugin hands its policies', async (t) => {
  const doc = JSON.parse(await readFile(join(FIXTURES, 'authz', 'check-jwt-mtls.json'), 'utf8'));
  doc.attributes.metadata_context = { filter_metadata: { 'envoy.filters.http.jwt_authn': { fields: { sub: { stringValue: 'alice' }, n: { numberValue: 2 }, l: { listValue: { values: [{ boolValue: true }, { nullValue: 0 }] } } } } } };
  const type = envoyRoot().lookupType('envoy.service.auth.v3.CheckRequest');
  const bytes = type.encode(type.fromObject(fromProtoJson(doc) as object)).finish();
  const json = toProtoJson(type, type.decode(bytes)) as { attributes: Record<string, any> };
  const a = json.attributes;
  t.strictSame(a.source.address, { socketAddress: { address: '10.44.1.17', portValue: 51234 } }, 'lowerCamelCase names, uint32 as a number');
  t.equal(a.request.time, '2026-11-24T10:15:30.123456Z', 'Timestamp in RFC 3339 with six digits');
  t.equal(a.request.http.size, '57', 'int64 as a string');
  t.equal(a.request.http.id, '13359530607844510314');
  t.strictSame(a.contextExtensions, { virtual_host: 'payment-service' }, 'map keys untouched');
  t.strictSame(a.metadataContext.filterMetadata['envoy.filters.http.jwt_authn'], { sub: 'alice', n: 2, l: [true, null] }, 'Struct as plain JSON');
  t.notOk('rawBody' in a.request.http, 'unset fields are omitted');
  t.notOk('destination' in a && 'service' in a.destination, 'empty strings are omitted');

  const input = envoyInput(json);
  t.strictSame(input.version, { encoding: 'protojson', ext_authz: 'v3' });
  t.strictSame(input.parsed_path, ['api', 'v1', 'charges']);
  t.strictSame(input.parsed_query, { currency: ['EUR'], dry_run: ['false'] });
  t.strictSame(input.parsed_body, { amount: 1250, currency: 'EUR', customer: 'c_8812' });
  t.equal(input.truncated_body, false);
});

t.test('a CheckRequest without HTTP attributes, or with an unreadable path or body, is an input error', async (t) => {
  t.throws(() => envoyInput({}), { name: 'InputError' });
  t.throws(() => envoyInput({ attributes: { request: {} } }), { name: 'InputError' });
  t.throws(() => envoyInput({ attributes: { request: { http: { path: '/%' } } } }), /error parsing path and query/);
  t.throws(() => envoyInput({ attributes: { request: { http: { path: '/', headers: { 'content-type': 'application/json' }, body: '{' } } } }), /error parsing request body/);
  t.strictSame(envoyInput({ attributes: { request: { http: {} } } }).parsed_path, [''], 'an empty request is still a request');
});
