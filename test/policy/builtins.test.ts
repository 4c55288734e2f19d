// Host builtins against OPA's own: each expression is evaluated by Portcullis (the policy compiled to
// WebAssembly, the builtin answered by the host) and by the pinned OPA (`opa eval`, Go's builtins), and
// the answers must be the same: the value with its type (sets stay sets, numbers keep their text), or
// undefined where Go's builtin returns an error.
import { execFile } from 'node:child_process';
import { createHmac, generateKeyPairSync, sign as cryptoSign, createSign, constants } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { readArchive } from '../../src/policy/bundle/archive.js';
import { loadBundle } from '../../src/policy/bundle/bundle.js';
import { DEFAULT_LIMITS } from '../../src/policy/bundle/files.js';
import { PolicyEngine } from '../../src/policy/engine.js';
import { parseExact } from '../../src/policy/value/exact.js';
import { stringify } from '../../src/policy/value/raw-number.js';
import { compareValues } from '../../src/policy/value/rego-order.js';
import { buildBundle } from '../helpers/bundles.js';
import { OPA } from '../helpers/paths.js';

const run = promisify(execFile);
const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64url');

// Keys and tokens for io.jwt.*: real signatures from node:crypto, and the ways they go wrong.
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ed = generateKeyPairSync('ed25519');
const rsaJwk = { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'r1', alg: 'RS256' };
const rsaPrivateJwk = { ...rsa.privateKey.export({ format: 'jwk' }), kid: 'r1' };
const ecJwk = { ...ec.publicKey.export({ format: 'jwk' }), kid: 'e1' };
const edJwk = ed.publicKey.export({ format: 'jwk' });
const rsaPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string;
const jwks = JSON.stringify({ keys: [rsaJwk, ecJwk] });

function token(header: object, claims: object, signer: (input: string) => Buffer): string {
  const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(claims))}`;
  return `${input}.${b64(signer(input))}`;
}
const hs = (secret: string, bits = 256) => (input: string) => createHmac(`sha${bits}`, secret).update(input).digest();
const rs = (input: string) => createSign('sha256').update(input).sign(rsa.privateKey);
const ps = (input: string) => cryptoSign('sha256', Buffer.from(input), { key: rsa.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
const es = (input: string) => cryptoSign('sha256', Buffer.from(input), { key: ec.privateKey, dsaEncoding: 'ieee-p1363' });
const eddsa = (input: string) => cryptoSign(null, Buffer.from(input), ed.privateKey);
const now = Math.floor(Date.now() / 1000);
const claims = { iss: 'https://issuer', aud: 'api', sub: 'alice', nbf: now - 60, exp: now + 3600, n: 1.5e3 };
const TOKENS = {
  hs256: token({ alg: 'HS256', typ: 'JWT' }, claims, hs('secret')),
  hs384: token({ alg: 'HS384' }, claims, hs('secret', 384)),
  rs256: token({ alg: 'RS256', kid: 'r1' }, claims, rs),
  rs256nokid: token({ alg: 'RS256' }, claims, rs),
  ps256: token({ alg: 'PS256' }, claims, ps),
  es256: token({ alg: 'ES256', kid: 'e1' }, claims, es),
  eddsa: token({ alg: 'EdDSA' }, claims, eddsa),
  expired: token({ alg: 'HS256' }, { ...claims, exp: now - 10 }, hs('secret')),
  future: token({ alg: 'HS256' }, { ...claims, nbf: now + 3600 }, hs('secret')),
  nested: token({ alg: 'HS256', cty: 'JWT' }, {}, hs('secret')).replace(/^[^.]+\.[^.]+/, (m) => m.split('.')[0] + '.' + b64(`"${token({ alg: 'HS256' }, { inner: true }, hs('secret'))}"`)),
  none: `${b64('{"alg":"none"}')}.${b64(JSON.stringify(claims))}.`,
  crit: token({ alg: 'HS256', crit: ['exp'], exp: 1 }, claims, hs('secret')),
  jwe: `${b64('{"alg":"dir","enc":"A128GCM"}')}.${b64('{}')}.x`,
  badjson: `${b64('{"alg":"HS256"')}.${b64('{}')}.x`,
  stringexp: token({ alg: 'HS256' }, { ...claims, exp: 'soon' }, hs('secret')),
};

const q = (s: string) => JSON.stringify(s);

/** Each case is a Rego expression; the name says what it checks. */
const CASES: Record<string, string> = {
  // base64 and friends: Go refuses what the C decoders in the WebAssembly would skip.
  b64url_padded: 'base64url.decode("YWJj")',
  b64url_unpadded2: 'base64url.decode("YWI")',
  b64url_std_chars: 'base64url.decode("a+b/")',
  b64url_len1: 'base64url.decode("Y")',
  b64url_padding_wrong: 'base64url.decode("YWJj=")',
  b64url_newline: 'base64url.decode("YW\\nJj")',
  b64_valid: 'base64.decode("YWJj")',
  b64_nopad: 'base64.decode("YWI")',
  b64_urlchars: 'base64.decode("a-b_")',
  b64_garbage: 'base64.decode("!!!!")',
  b64_is_valid_yes: 'base64.is_valid("YWJj")',
  b64_is_valid_no: 'base64.is_valid("YW=J")',
  b64url_nopad_enc: 'base64url.encode_no_pad("abc?")',
  hex_enc: 'hex.encode("abc")',
  hex_dec: 'hex.decode("616263")',
  hex_dec_bad: 'hex.decode("6g")',
  // io.jwt.*
  decode_hs: `io.jwt.decode(${q(TOKENS.hs256)})`,
  decode_nested: `io.jwt.decode(${q(TOKENS.nested)})`,
  decode_jwe: `io.jwt.decode(${q(TOKENS.jwe)})`,
  decode_badjson: `io.jwt.decode(${q(TOKENS.badjson)})`,
  decode_two_parts: 'io.jwt.decode("a.b")',
  verify_hs256: `io.jwt.verify_hs256(${q(TOKENS.hs256)}, "secret")`,
  verify_hs256_wrong: `io.jwt.verify_hs256(${q(TOKENS.hs256)}, "wrong")`,
  verify_hs384: `io.jwt.verify_hs384(${q(TOKENS.hs384)}, "secret")`,
  verify_rs256_jwks: `io.jwt.verify_rs256(${q(TOKENS.rs256)}, ${q(jwks)})`,
  verify_rs256_pem: `io.jwt.verify_rs256(${q(TOKENS.rs256nokid)}, ${q(rsaPem)})`,
  verify_rs256_jwk: `io.jwt.verify_rs256(${q(TOKENS.rs256nokid)}, ${q(JSON.stringify(rsaJwk))})`,
  verify_rs256_private_jwk: `io.jwt.verify_rs256(${q(TOKENS.rs256nokid)}, ${q(JSON.stringify(rsaPrivateJwk))})`,
  verify_rs256_with_ec: `io.jwt.verify_rs256(${q(TOKENS.es256)}, ${q(JSON.stringify({ keys: [ecJwk] }))})`,
  verify_rs256_tampered: `io.jwt.verify_rs256(${q(TOKENS.rs256.replace(/\.[^.]+\./, `.${b64('{"sub":"mallory"}')}.`))}, ${q(jwks)})`,
  verify_ps256: `io.jwt.verify_ps256(${q(TOKENS.ps256)}, ${q(rsaPem)})`,
  verify_es256: `io.jwt.verify_es256(${q(TOKENS.es256)}, ${q(jwks)})`,
  verify_eddsa: `io.jwt.verify_eddsa(${q(TOKENS.eddsa)}, ${q(JSON.stringify(edJwk))})`,
  verify_bad_key: `io.jwt.verify_rs256(${q(TOKENS.rs256)}, "not a key")`,
  dv_hs: `io.jwt.decode_verify(${q(TOKENS.hs256)}, {"secret": "secret"})`,
  dv_hs_aud: `io.jwt.decode_verify(${q(TOKENS.hs256)}, {"secret": "secret", "aud": "api", "iss": "https://issuer"})`,
  dv_hs_wrong_aud: `io.jwt.decode_verify(${q(TOKENS.hs256)}, {"secret": "secret", "aud": "other"})`,
  dv_no_aud_constraint: `io.jwt.decode_verify(${q(TOKENS.hs256)}, {"secret": "secret", "iss": "https://issuer"})`,
  dv_expired: `io.jwt.decode_verify(${q(TOKENS.expired)}, {"secret": "secret", "aud": "api"})`,
  dv_future: `io.jwt.decode_verify(${q(TOKENS.future)}, {"secret": "secret", "aud": "api"})`,
  dv_time: `io.jwt.decode_verify(${q(TOKENS.expired)}, {"secret": "secret", "aud": "api", "time": ${(now - 100) * 1e9}})`,
  dv_rs_cert: `io.jwt.decode_verify(${q(TOKENS.rs256)}, {"cert": ${q(jwks)}, "aud": "api"})`,
  dv_alg_mismatch: `io.jwt.decode_verify(${q(TOKENS.rs256)}, {"cert": ${q(jwks)}, "aud": "api", "alg": "RS512"})`,
  dv_none: `io.jwt.decode_verify(${q(TOKENS.none)}, {"secret": "secret", "aud": "api"})`,
  dv_crit: `io.jwt.decode_verify(${q(TOKENS.crit)}, {"secret": "secret", "aud": "api"})`,
  dv_string_exp: `io.jwt.decode_verify(${q(TOKENS.stringexp)}, {"secret": "secret", "aud": "api"})`,
  dv_unknown_constraint: `io.jwt.decode_verify(${q(TOKENS.hs256)}, {"secret": "secret", "foo": 1})`,
  dv_two_keys: `io.jwt.decode_verify(${q(TOKENS.hs256)}, {"secret": "secret", "cert": ${q(rsaPem)}})`,
  dv_no_key: `io.jwt.decode_verify(${q(TOKENS.hs256)}, {})`,
  encode_sign_hs: 'io.jwt.encode_sign({"alg": "HS256", "typ": "JWT"}, {"sub": "a<b>&c", "n": 10.0, "z": 1, "a": [1]}, {"kty": "oct", "k": "c2VjcmV0"})',
  encode_sign_raw_hs: 'io.jwt.encode_sign_raw(`{"alg":"HS256"}`, `{"x": 1}`, `{"kty":"oct","k":"c2VjcmV0"}`)',
  encode_sign_rs: `io.jwt.encode_sign({"alg": "RS256"}, {"sub": "x"}, ${JSON.stringify(rsaPrivateJwk)})`,
  encode_sign_bad_alg: 'io.jwt.encode_sign({"alg": "XX1"}, {}, {"kty": "oct", "k": "c2VjcmV0"})',
  encode_sign_not_json: 'io.jwt.encode_sign_raw(`{"alg":"HS256"}`, `not json`, `{"kty":"oct","k":"c2VjcmV0"}`)',
  // sprintf: Go's fmt over Rego values.
  sprintf_basic: 'sprintf("%s is %d years, %v", ["alice", 30, [1, "a", {"k": true}]])',
  sprintf_float: 'sprintf("%.2f %e %g %v %v", [3.14159, 1234.5678, 0.000012, 2.5, 1e21])',
  sprintf_int_float: 'sprintf("%v %v %v", [1.0, 10, 100000000000000000000])',
  sprintf_width: 'sprintf("[%5d] [%-5s] [%05.1f] [%x] [%X] [%o] [%b] [%q] [%+d]", [42, "ab", 3.14159, 255, "hi", 8, 5, "q\\"x", 7])',
  sprintf_errors: 'sprintf("%d %s %!", ["x", 1])',
  sprintf_missing: 'sprintf("%s %s", ["a"])',
  sprintf_extra: 'sprintf("%s", ["a", "b", 3])',
  sprintf_set: 'sprintf("%v", [{3, 1, 2}])',
  sprintf_object: 'sprintf("%v", [{"b": 1, "a": [null, false]}])',
  sprintf_unicode: 'sprintf("%q %x % x %U %c", ["é\\u0001", "é", "ab", 233, 233])',
  sprintf_index: 'sprintf("%[2]s %[1]s %*d", ["a", "b", 5, 1])',
  sprintf_round: 'sprintf("%.2f %.0f %.1f %.3g", [0.125, 0.5, 0.05, 1234567])',
  // strings
  count: 'strings.count("cheese", "e")',
  count_empty: 'strings.count("five", "")',
  any_prefix: 'strings.any_prefix_match(["a/b", "c/d"], ["c/"])',
  any_suffix: 'strings.any_suffix_match("file.txt", {".md", ".txt"})',
  indexof_n: 'indexof_n("abcabc", "bc")',
  indexof_n_unicode: 'indexof_n("äbäb", "b")',
  quote_meta: 'glob.quote_meta("*.{a,b}[c]?\\\\")',
  // time
  rfc3339: 'time.parse_rfc3339_ns("2023-01-02T03:04:05.678Z")',
  rfc3339_offset: 'time.parse_rfc3339_ns("2023-01-02T03:04:05+05:30")',
  rfc3339_bad: 'time.parse_rfc3339_ns("2023-01-02 03:04:05")',
  parse_ns_layout: 'time.parse_ns("2006-01-02", "2023-07-04")',
  parse_ns_named: 'time.parse_ns("RFC1123", "Mon, 02 Jan 2006 15:04:05 MST")',
  parse_ns_kitchen: 'time.parse_ns("3:04PM", "11:45AM")',
  duration: 'time.parse_duration_ns("1h30m15.5s")',
  duration_days: 'time.parse_duration_ns("2d1h")',
  duration_bad: 'time.parse_duration_ns("5 minutes")',
  date: 'time.date(1700000000000000000)',
  date_tz: 'time.date([1700000000000000000, "Asia/Tokyo"])',
  clock: 'time.clock([1700000000000000000, "America/New_York"])',
  weekday: 'time.weekday(1700000000000000000)',
  format: 'time.format(1700000000123456789)',
  format_layout: 'time.format([1700000000123456789, "Europe/Berlin", "Mon Jan _2 15:04:05.000 -0700 2006"])',
  format_named: 'time.format([1700000000000000000, "UTC", "RFC822Z"])',
  add_date: 'time.add_date(1700000000000000000, 1, 13, -40)',
  diff: 'time.diff(1700000000000000000, 1600000000000000000)',
  // numbers, units, semver, urlquery, collections
  range_step: 'numbers.range_step(10, 1, 3)',
  range_step_bad: 'numbers.range_step(1, 10, 0)',
  units: 'units.parse("1.5Ki")',
  units_milli: 'units.parse("250m")',
  units_bad: 'units.parse("10 k")',
  bytes: 'units.parse_bytes("1.5GiB")',
  bytes_plain: 'units.parse_bytes("100")',
  semver_cmp: 'semver.compare("1.2.3-alpha.1", "1.2.3-alpha.beta")',
  semver_cmp_v: 'semver.compare("v2.0.0", "1.10.0")',
  semver_valid: 'semver.is_valid("1.2.03")',
  semver_bad: 'semver.compare("1.2", "1.2.3")',
  urlquery_enc: 'urlquery.encode("a b&c=d/é~")',
  urlquery_dec: 'urlquery.decode("a+b%26c")',
  urlquery_dec_bad: 'urlquery.decode("%zz")',
  urlquery_enc_obj: 'urlquery.encode_object({"b": ["2", "1"], "a": "x y", "c": {"z"}})',
  urlquery_dec_obj: 'urlquery.decode_object("a=1&b=2&a=3")',
  subset_obj: 'object.subset({"a": {"b": [1, 2, 3]}, "c": 1}, {"a": {"b": [2, 3]}})',
  subset_arr_set: 'object.subset([1, 2, 3], {3, 1})',
  subset_mixed: 'object.subset({"a": 1}, [1])',
  reachable_paths: 'graph.reachable_paths({"a": ["b", "c"], "b": ["a", "d"], "c": [], "d": ["x"]}, {"a"})',
  marshal_pretty: 'json.marshal_with_options({"b": [1, {"c": "<x>"}], "a": {}}, {"pretty": true, "indent": "  ", "prefix": "> "})',
  marshal_compact: 'json.marshal_with_options({"b": 1, "a": 10.0}, {"pretty": false})',
  marshal_bad_option: 'json.marshal_with_options({}, {"colour": true})',
  yaml_unmarshal: 'yaml.unmarshal("a: 1\\nb: [x, 2.5, yes, on]\\nc: {d: null}\\ndate: 2023-01-01")',
  yaml_invalid: 'yaml.is_valid("a: [1, 2")',
  // regex
  regex_split: 'regex.split("[,;]\\\\s*", "a, b;c,,d")',
  regex_split_empty: 'regex.split("x*", "axbc")',
  regex_find_n: 'regex.find_n("[0-9]+", "a1b22c333", 2)',
  regex_find_all: 'regex.find_n("a*", "baaac", -1)',
  regex_replace: 'regex.replace("alice@example.com", "(\\\\w+)@(\\\\w+)", "$2 at ${1}x $1x $$")',
  regex_template: 'regex.template_match("urn:foo:{.*}", "urn:foo:bar:baz", "{", "}")',
  regex_bad: 'regex.split("(", "x")',
  // net.cidr_*: Go's net.ParseCIDR and net.IP, and OPA's merge
  cidr_valid: 'net.cidr_is_valid("10.0.0.0/8")',
  cidr_valid_too_long: 'net.cidr_is_valid("10.0.0.0/33")',
  cidr_valid_leading_zero: 'net.cidr_is_valid("010.0.0.0/8")',
  cidr_valid_mask_zeros: 'net.cidr_is_valid("10.0.0.0/008")',
  cidr_valid_zone: 'net.cidr_is_valid("fe80::1%eth0/64")',
  cidr_valid_mapped: 'net.cidr_is_valid("::ffff:1.2.3.4/120")',
  cidr_valid_not_string: 'net.cidr_is_valid(json.unmarshal("5"))',
  cidr_expand_v4: 'net.cidr_expand("192.168.1.5/30")',
  cidr_expand_mapped: 'net.cidr_expand("::ffff:1.2.3.4/126")',
  cidr_expand_v6: 'net.cidr_expand("2001:db8::ff/126")',
  cidr_expand_one: 'net.cidr_expand("10.0.0.1/32")',
  cidr_expand_bad: 'net.cidr_expand("10.0.0.1")',
  cidr_matches: 'net.cidr_contains_matches(["10.0.0.0/8", ["192.168.0.0/16", "x"]], {"a": "10.1.2.3", "b": ["192.168.1.0/24"], "c": "172.16.0.1"})',
  cidr_matches_set: 'net.cidr_contains_matches({"10.0.0.0/8", "10.1.0.0/16"}, "10.1.0.1")',
  cidr_matches_v6: 'net.cidr_contains_matches("2001:db8::/32", ["2001:db8:1::/48", "2001:db9::1", "::/0"])',
  cidr_matches_bad_element: 'net.cidr_contains_matches("10.0.0.0/8", json.unmarshal("[5]"))',
  cidr_matches_bad_cidr: 'net.cidr_contains_matches("10.0.0.0/8", ["nope"])',
  cidr_merge: 'net.cidr_merge(["192.168.1.0/25", "192.168.1.128/25", "10.0.0.1/32", "10.0.0.2/31", "::ffff:1.2.3.0/120", "2001:db8::/33", "2001:db8:8000::/33"])',
  cidr_merge_class: 'net.cidr_merge(["10.1.2.3", "192.168.7.1", "172.16.0.0/12"])',
  cidr_merge_unaligned: 'net.cidr_merge(["10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/30", "10.0.0.8/29"])',
  cidr_merge_set: 'net.cidr_merge({"192.168.0.0/24", "192.168.1.0/24", "192.168.2.0/23"})',
  cidr_merge_contained: 'net.cidr_merge(["0.0.0.0/0", "10.0.0.0/8", "::/0", "2001:db8::/32"])',
  cidr_merge_v6_address: 'net.cidr_merge(["2001:db8::1"])',
  cidr_merge_low_v6: 'net.cidr_merge(["::1/128", "::2/127"])',
  // uri.*: Go's url.Parse
  uri_full: 'uri.parse("https://user:pw@Example.com:8443/a%2Fb/c?x=1&y=%zz#frag%20x")',
  uri_ipv6_zone: 'uri.parse("HTTP://[fe80::1%25en0]:80/p")',
  uri_opaque: 'uri.parse("mailto:alice@example.com")',
  uri_relative: 'uri.parse("/relative/path?q")',
  uri_colon_segment: 'uri.parse("1a:b")',
  uri_host_space: 'uri.parse("http://a b.com/")',
  uri_bad_port: 'uri.parse("http://h:port/")',
  uri_http_colons: 'uri.parse("http://a:1:2/")',
  uri_host_list: 'uri.parse("redis://a:1,b:2/db")',
  uri_bracketed_v4: 'uri.parse("http://[1.2.3.4]/")',
  uri_no_scheme_authority: 'uri.parse("//host/path")',
  uri_triple_slash: 'uri.parse("///x")',
  uri_empty_authority: 'uri.parse("http:///x")',
  uri_star: 'uri.parse("*")',
  uri_raw_path: 'uri.parse("http://x/%7e%41")',
  uri_space_path: 'uri.parse("http://x/a b")',
  uri_control: 'uri.parse("http://x/\\u0001")',
  uri_control_fragment: 'uri.parse("http://x/#\\u0001")',
  uri_force_query: 'uri.parse("http://x?")',
  uri_host_escape: 'uri.parse("http://%41.com/")',
  uri_host_utf8: 'uri.parse("http://caf%C3%A9.com/")',
  uri_valid_empty: 'uri.is_valid("")',
  uri_valid_colon: 'uri.is_valid("::")',
  uri_valid_number: 'uri.is_valid(json.unmarshal("1"))',
  uri_valid: 'uri.is_valid("http://ok/")',
  // uuid.parse: github.com/google/uuid and OPA's fields
  uuid_v1: 'uuid.parse("f81d4fae-7dec-11d0-a765-00a0c91e6bf6")',
  uuid_urn: 'uuid.parse("urn:uuid:F81D4FAE-7DEC-11D0-A765-00A0C91E6BF6")',
  uuid_v2: 'uuid.parse("{000003e8-7dec-21d0-a701-00a0c91e6bf6}")',
  uuid_v4_plain: 'uuid.parse("550e8400e29b41d4a716446655440000")',
  uuid_bad: 'uuid.parse("xyz")',
  uuid_before_epoch: 'uuid.parse("00000000-0000-1000-8000-030000000001")',
  uuid_brackets: 'uuid.parse("[550e8400-e29b-41d4-c716-446655440000]")',
  // json.patch: RFC 6902 as OPA's edit tree applies it
  patch_ops: 'json.patch({"a": {"b": [1, 2]}}, [{"op": "add", "path": "/a/b/-", "value": 3}, {"op": "replace", "path": "/a/b/0", "value": "x"}, {"op": "remove", "path": "/a/b/1"}, {"op": "copy", "from": "/a/b", "path": "/c"}, {"op": "move", "from": "/c", "path": "/d"}, {"op": "test", "path": "/d/0", "value": "x"}])',
  patch_escapes: 'json.patch({"a~b": {"c/d": 1}}, [{"op": "replace", "path": "//a~0b/c~1d", "value": 2}])',
  patch_plus_index: 'json.patch([1, 2], [{"op": "add", "path": "/+1", "value": 9}])',
  patch_leading_zero: 'json.patch([1, 2], [{"op": "add", "path": "/01", "value": 9}])',
  patch_test_number: 'json.patch({"a": 1}, [{"op": "test", "path": "/a", "value": 1.0}])',
  patch_test_fails: 'json.patch({"a": 1}, [{"op": "test", "path": "/a", "value": 2}])',
  patch_remove_missing: 'json.patch({"a": 1}, [{"op": "remove", "path": "/b"}])',
  patch_unknown_op: 'json.patch({"a": 1}, [{"op": "nope", "path": "/a"}])',
  patch_root: 'json.patch({"a": 1}, [{"op": "remove", "path": ""}, {"op": "add", "path": "", "value": [1]}])',
  patch_set_remove: 'json.patch({"s": {1, 2}}, [{"op": "remove", "path": ["s", 1]}])',
  patch_set_inside: 'json.patch({"a": {1, 2, [3]}}, [{"op": "add", "path": ["a", [3], "-"], "value": 4}]).a',
  patch_set_add: 'json.patch({"a": {1}}, [{"op": "add", "path": ["a", [4]], "value": [4]}]).a',
  patch_scalar: 'json.patch("x", [{"op": "add", "path": "/a", "value": 1}])',
  patch_out_of_range: 'json.patch({"a": [1]}, [{"op": "add", "path": "/a/5", "value": 2}])',
  patch_no_value: 'json.patch({"a": [1]}, [{"op": "add", "path": "/a/0"}])',
  // regex.globs_match: glob-intersection's search
  globs_dots: 'regex.globs_match("a.a.", ".b.b")',
  globs_sets: 'regex.globs_match("[a-z]+", "[0-9]*")',
  globs_disjoint: 'regex.globs_match("a*b", "a+c")',
  globs_escape: 'regex.globs_match("foo\\\\.bar", "foo.bar")',
  globs_open_set: 'regex.globs_match("[", "a")',
  globs_double_flag: 'regex.globs_match("a**", "a")',
  globs_ranges: 'regex.globs_match("[a-c]+x", "b*x")',
  globs_any: 'regex.globs_match(".*", "anything")',
  globs_bad_range: 'regex.globs_match("a[b-]", "ab")',
  globs_trailing_escape: 'regex.globs_match("a\\\\", "a")',
  globs_simplified: 'regex.globs_match("a*a+b", "aab")',
  // providers.aws.sign_req: AWS Signature Version 4 as OPA computes it
  aws_s3: 'providers.aws.sign_req({"method": "GET", "url": "https://examplebucket.s3.amazonaws.com/test%20file.txt?x=1", "headers": {"Range": "bytes=0-9", "User-Agent": "x"}}, {"aws_access_key": "AKIDEXAMPLE", "aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "aws_region": "us-east-1", "aws_service": "s3"}, 1440938160000000000)',
  aws_body: 'providers.aws.sign_req({"method": "POST", "url": "https://api.example.com/a%2Fb/%7e?q", "body": {"b": "<x>", "a": [1, 2.50]}, "headers": {"host": "other", "X-N": 5}}, {"aws_access_key": "AK", "aws_secret_access_key": "SK", "aws_region": "eu-west-1", "aws_service": "execute-api", "aws_session_token": "tok"}, 1700000000123456789)',
  aws_raw_unsigned: 'providers.aws.sign_req({"method": "PUT", "url": "https://h/x", "raw_body": "data"}, {"aws_access_key": "AK", "aws_secret_access_key": "SK", "aws_region": "r", "aws_service": "glacier", "disable_payload_signing": true}, 1000.00)',
  aws_missing_config: 'providers.aws.sign_req({"method": "GET", "url": "https://h/"}, {"aws_access_key": "AK", "aws_secret_access_key": "SK", "aws_service": "s3"}, 0)',
  aws_bad_key: 'providers.aws.sign_req({"method": "GET", "url": "https://h/", "foo": 1}, {"aws_access_key": "AK", "aws_secret_access_key": "SK", "aws_region": "r", "aws_service": "s3"}, 0)',
  aws_bad_time: 'providers.aws.sign_req({"method": "GET", "url": "https://h/"}, {"aws_access_key": "AK", "aws_secret_access_key": "SK", "aws_region": "r", "aws_service": "s3"}, 1.5)',
  aws_before_epoch: 'providers.aws.sign_req({"method": "GET", "url": "https://h/"}, {"aws_access_key": "AK", "aws_secret_access_key": "SK", "aws_region": "r", "aws_service": "s3"}, -1)',
  // collections and the rest
  md5: 'crypto.md5("abc")',
  sha256: 'crypto.sha256("abc")',
  hmac_sha512: 'crypto.hmac.sha512("message", "key")',
  hmac_equal: 'crypto.hmac.equal("abc", "abc")',
  trace: 'trace("note")',
  runtime: 'is_object(opa.runtime())',
};

const dir = await mkdtemp(join(tmpdir(), 'portcullis-builtins-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

const rules = Object.entries(CASES).map(([name, expr]) => `r[${JSON.stringify(name)}] := {"type": type_name(x), "value": x} if x := ${expr}`);
const module = `package conformance\n\nimport rego.v1\n\n${rules.join('\n\n')}\n`;
await writeFile(join(dir, 'conformance.rego'), module);

const { stdout } = await run(OPA, ['eval', '--format', 'json', '--data', join(dir, 'conformance.rego'), 'data.conformance.r'], { maxBuffer: 64 * 1024 * 1024 });
const expected = (parseExact(stdout) as { result: Array<{ expressions: Array<{ value: Record<string, unknown> }> }> }).result[0]?.expressions[0]?.value ?? {};

const engine = new PolicyEngine();
const archive = await buildBundle({ 'conformance.rego': module }, { entrypoints: ['conformance/r'] });
await engine.activate(await loadBundle('conformance', await readArchive('conformance', archive, DEFAULT_LIMITS)));
const actual = engine.current().evaluate('conformance/r', {}, undefined, true) as Record<string, unknown>;

/** JSON with keys sorted and numbers as their text; `undefined` for an undefined result. */
function canonical(v: unknown): string {
  // A set's elements are in no particular order in the WebAssembly's JSON; OPA's are sorted.
  if (v && typeof v === 'object' && (v as { type?: unknown }).type === 'set') v = { ...v, value: [...((v as { value: unknown[] }).value)].sort(compareValues) };
  const sort = (x: unknown): unknown => (Array.isArray(x) ? x.map(sort) : x && typeof x === 'object' && x.constructor === Object ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, sort((x as Record<string, unknown>)[k])])) : x);
  return v === undefined ? 'undefined' : stringify(sort(v));
}

t.test('every host builtin answers as OPA\'s Go builtin does', async (t) => {
  for (const name of Object.keys(CASES)) {
    t.equal(canonical(actual[name]), canonical(expected[name]), `${name}: ${CASES[name]?.slice(0, 100)}`);
  }
});

t.test('non-deterministic builtins: one value per evaluation, as OPA', async (t) => {
  const source = `package nd\n\nimport rego.v1\n\nsame_time if time.now_ns() == time.now_ns()\n\nsame_rand if rand.intn("k", 1000000) == rand.intn("k", 1000000)\n\nsame_uuid if uuid.rfc4122("k") == uuid.rfc4122("k")\n\nid := uuid.rfc4122("k")\n\nnow := time.now_ns()\n`;
  const e = new PolicyEngine();
  const a = await buildBundle({ 'nd.rego': source }, { entrypoints: ['nd/same_time', 'nd/same_rand', 'nd/same_uuid', 'nd/id', 'nd/now'], roots: ['nd'] });
  await e.activate(await loadBundle('nd', await readArchive('nd', a, DEFAULT_LIMITS)));
  t.equal(e.evaluate('nd/same_time', {}), true);
  t.equal(e.evaluate('nd/same_rand', {}), true);
  t.equal(e.evaluate('nd/same_uuid', {}), true);
  t.not(e.evaluate('nd/id', {}), e.evaluate('nd/id', {}), 'a new UUID in the next evaluation');
  const before = BigInt(Date.now()) * 1000000n;
  const now = BigInt(String(e.current().evaluate('nd/now', {}, undefined, true)));
  t.ok(now >= before - 1000000n && now <= BigInt(Date.now() + 1) * 1000000n, 'time.now_ns is the wall clock in ns, exactly');
});

t.test('where OPA\'s Go builtin panics or would exhaust memory, the call is undefined and the service goes on', async (t) => {
  // opa eval crashes on the first two (a nil slice indexed in OPA's cidr merge, a nil document returned by
  // json.patch); net.cidr_expand of a /8 would build 16 million strings in one decision.
  const source = `package edge\n\nimport rego.v1\n\nmerge := net.cidr_merge(["::1:0/113", "::1:8000/113"])\n\nremoved := json.patch({"a": 1}, [{"op": "remove", "path": ""}])\n\nexpanded := count(net.cidr_expand("10.0.0.0/8"))\n\nlargest := count(net.cidr_expand("10.0.0.0/16"))\n`;
  const e = new PolicyEngine();
  const a = await buildBundle({ 'edge.rego': source }, { entrypoints: ['edge/merge', 'edge/removed', 'edge/expanded', 'edge/largest'], roots: ['edge'] });
  await e.activate(await loadBundle('edge', await readArchive('edge', a, DEFAULT_LIMITS)));
  t.equal(e.evaluate('edge/merge', {}), undefined);
  t.equal(e.evaluate('edge/removed', {}), undefined);
  t.equal(e.evaluate('edge/expanded', {}), undefined, 'more than 2^16 addresses are refused');
  t.equal(e.evaluate('edge/largest', {}), 65536, '2^16 are expanded');
});
