// providers.aws.sign_req: an http.send request object signed with AWS Signature Version 4, as OPA's
// topdown/providers.go and internal/providers/aws (SignV4) build it. It only computes: the request is not
// sent, so it needs no network.
import { createHash, createHmac } from 'node:crypto';
import { goMarshal } from '../value/go-json.js';
import { escapedPath, GoUrlError, parseUrl } from '../value/go-url.js';
import { RawNumber } from '../value/raw-number.js';
import { numberText } from '../value/rego-order.js';
import { BuiltinError, obj, typeName, type Builtin } from './builtin.js';

const REQUIRED_CONFIG = ['aws_access_key', 'aws_region', 'aws_secret_access_key', 'aws_service'];
// The keys http.send accepts; a request object with any other is refused, as OPA refuses it.
const REQUEST_KEYS = new Set([
  'method', 'url', 'body', 'enable_redirect', 'force_json_decode', 'force_yaml_decode', 'headers', 'raw_body',
  'tls_use_system_certs', 'tls_ca_cert', 'tls_ca_cert_file', 'tls_ca_cert_env_variable', 'tls_client_cert',
  'tls_client_cert_file', 'tls_client_cert_env_variable', 'tls_client_key', 'tls_client_key_file',
  'tls_client_key_env_variable', 'tls_insecure_skip_verify', 'tls_server_name', 'timeout', 'cache', 'force_cache',
  'force_cache_duration_seconds', 'raise_error', 'caching_mode', 'max_retry_attempts', 'cache_ignored_headers',
]);
const UNSIGNED_HEADERS = new Set(['authorization', 'user-agent', 'x-amzn-trace-id']);

const text = (v: unknown) => (typeof v === 'string' ? v : '');
const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, message: string) => createHmac('sha256', key).update(message).digest();

/** The signing instant from nanoseconds since the epoch (time.Unix(0, ns) in UTC): "20060102" and "20060102T150405Z". */
function stamps(ns: bigint): [string, string] {
  let ms = ns / 1000000n;
  if (ns % 1000000n < 0n) ms -= 1n;
  const iso = new Date(Number(ms)).toISOString(); // 2006-01-02T15:04:05.000Z
  const date = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}`;
  return [date, `${date}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`];
}

/** OPA's util.Atoi64: an integer of at most 19 digits, a fraction of zeros allowed ("5.00"). */
function atoi64(s: string): bigint | undefined {
  const negative = s.startsWith('-');
  const digits = negative || s.startsWith('+') ? s.slice(1) : s;
  if (digits.length === 0 || digits.length > 19 || !/^[0-9]*(\.0*)?$/.test(digits)) return undefined;
  const n = BigInt(digits.split('.')[0] || '0');
  if (negative ? n > 2n ** 63n : n >= 2n ** 63n) return undefined;
  return negative ? -n : n;
}

function signRequest(args: unknown[]): Record<string, unknown> {
  const request = obj(args, 0);
  const config = obj(args, 1);
  const missing = REQUIRED_CONFIG.filter((k) => !Object.hasOwn(config, k));
  if (missing.length > 0) throw new BuiltinError(`operand 2 missing required AWS config parameters(s): ${missing.join(', ')}`);
  if (REQUIRED_CONFIG.some((k) => typeof config[k] !== 'string')) throw new BuiltinError('operand 2 invalid values for required AWS config parameters(s)');
  const when = args[2];
  if (typeof when !== 'number' && !(when instanceof RawNumber)) throw new BuiltinError(`operand 1 must be number but got ${typeName(when)}`);
  const ns = atoi64(numberText(when));
  if (ns === undefined) throw new BuiltinError('operand 3 could not convert time_ns value into a unix timestamp');
  const invalid = Object.keys(request).filter((k) => !REQUEST_KEYS.has(k));
  if (invalid.length > 0) throw new BuiltinError(`operand 1 invalid request parameters(s): ${invalid.join(', ')}`);
  if (!Object.hasOwn(request, 'method') || !Object.hasOwn(request, 'url')) throw new BuiltinError('operand 1 missing required request parameters(s)');
  const headers = request.headers ?? {};
  if (typeName(headers) !== 'object') throw new BuiltinError(`operand 0 must be object but got ${typeName(headers)}`);
  if (typeof request.url !== 'string' || typeof request.method !== 'string') throw new BuiltinError('operand 1 invalid values for required request parameters(s)');
  let url;
  try {
    url = parseUrl(request.url);
  } catch (err) {
    if (err instanceof GoUrlError) throw new BuiltinError(err.message);
    throw err;
  }
  const body = Object.hasOwn(request, 'raw_body') ? text(request.raw_body) : Object.hasOwn(request, 'body') ? goMarshal(request.body) : '';
  const unsigned = config.disable_payload_signing;
  if (unsigned !== undefined && typeof unsigned !== 'boolean') throw new BuiltinError("operand 2 invalid value for 'disable_payload_signing' in AWS config");

  const service = config.aws_service as string;
  const region = config.aws_region as string;
  const [date, stamp] = stamps(ns);
  const contentSha256 = unsigned === true ? 'UNSIGNED-PAYLOAD' : sha256Hex(Buffer.from(body));
  const awsHeaders: Record<string, string> = { host: url.host, 'x-amz-date': stamp };
  if (service === 's3' || service === 'glacier') awsHeaders['x-amz-content-sha256'] = contentSha256;
  const sessionToken = text(config.aws_session_token);
  if (sessionToken !== '') awsHeaders['x-amz-security-token'] = sessionToken;
  const original = Object.entries(headers as Record<string, unknown>).map(([k, v]) => [k, text(v)] as const);
  const toSign = new Map<string, string>(Object.entries(awsHeaders));
  for (const [k, v] of original) if (!UNSIGNED_HEADERS.has(k.toLowerCase())) toSign.set(k.toLowerCase(), v);
  const names = [...toSign.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const canonical = [request.method, escapedPath(url), url.rawQuery, ...names.map((k) => `${k}:${toSign.get(k)}`), '', names.join(';'), contentSha256].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = `AWS4-HMAC-SHA256\n${stamp}\n${scope}\n${sha256Hex(canonical)}`;
  let key = hmac(`AWS4${config.aws_secret_access_key as string}`, date);
  for (const part of [region, service, 'aws4_request']) key = hmac(key, part);
  const signature = hmac(key, stringToSign).toString('hex');

  const signed: Record<string, string> = Object.fromEntries(original);
  signed.Authorization = `AWS4-HMAC-SHA256 Credential=${config.aws_access_key as string}/${scope},SignedHeaders=${names.join(';')},Signature=${signature}`;
  Object.assign(signed, awsHeaders);
  return { ...request, headers: signed };
}

export const awsBuiltins: Record<string, Builtin> = {
  'providers.aws.sign_req': signRequest,
};
