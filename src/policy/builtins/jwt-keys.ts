import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { BuiltinError } from './builtin.js';

/** A key io.jwt.* verifies with: an asymmetric key (public, or private as a JWK may be) or an HMAC secret. */
export interface VerificationKey {
  alg: string;
  kid: string;
  key: KeyObject | Buffer;
}

/** The algorithms OPA's io.jwt builtins know; a JWK naming another one is skipped. */
export const TOKEN_ALGORITHMS = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'HS256', 'HS384', 'HS512', 'EdDSA']);

const cache = new Map<string, VerificationKey[]>();
const CACHE_ENTRIES = 100;

/**
 * The keys in a PEM certificate or public key, or a JWK or JWK Set, as OPA reads its `cert` arguments
 * (parseKeysFromCertOrJWK): one PEM block and nothing after it, CERTIFICATE or PUBLIC KEY only; else JSON
 * of one key or {"keys": [...]}, keys with an unknown `alg` left out. Parsed sets are kept (up to 100),
 * as OPA's io_jwt_keys cache keeps them: a policy verifies many tokens against the same few keys.
 */
export function keysFromCertOrJwk(text: string): VerificationKey[] {
  const hit = cache.get(text);
  if (hit) return hit;
  const keys = parseKeys(text);
  if (cache.size >= CACHE_ENTRIES) cache.delete(cache.keys().next().value as string);
  cache.set(text, keys);
  return keys;
}

function parseKeys(text: string): VerificationKey[] {
  const pem = decodePem(text);
  if (pem) {
    if (pem.rest.length > 0) throw new BuiltinError('extra data after a PEM certificate block');
    try {
      if (pem.type === 'CERTIFICATE') return [{ alg: '', kid: '', key: new X509Certificate(pem.der).publicKey }];
      if (pem.type === 'PUBLIC KEY') return [{ alg: '', kid: '', key: createPublicKey({ key: pem.der, format: 'der', type: 'spki' }) }];
    } catch (err) {
      throw new BuiltinError(`failed to parse a PEM ${pem.type === 'CERTIFICATE' ? 'certificate' : 'public key'}: ${(err as Error).message}`);
    }
    throw new BuiltinError('failed to extract a Key from the PEM certificate');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new BuiltinError(`failed to parse a JWK key (set): ${(err as Error).message}`);
  }
  const list = isObject(json) && Array.isArray(json.keys) ? json.keys : [json];
  const out: VerificationKey[] = [];
  for (const jwk of list) {
    const key = keyFromJwk(jwk);
    const alg = isObject(jwk) && typeof jwk.alg === 'string' ? jwk.alg : '';
    if (alg !== '' && !TOKEN_ALGORITHMS.has(alg)) continue;
    out.push({ alg, kid: isObject(jwk) && typeof jwk.kid === 'string' ? jwk.kid : '', key });
  }
  return out;
}

/** One JWK as a key: `oct` as its secret bytes, a private key (with `d`) as the private key it is. */
export function keyFromJwk(jwk: unknown): KeyObject | Buffer {
  if (!isObject(jwk) || typeof jwk.kty !== 'string') throw new BuiltinError('failed to parse a JWK key (set): invalid key');
  try {
    if (jwk.kty === 'oct') {
      if (typeof jwk.k !== 'string') throw new Error('missing "k"');
      return Buffer.from(jwk.k, 'base64url');
    }
    const key = { key: jwk as never, format: 'jwk' as const };
    return jwk.d !== undefined ? createPrivateKey(key) : createPublicKey(key);
  } catch (err) {
    throw new BuiltinError(`failed to parse a JWK key (set): ${(err as Error).message}`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Go's pem.Decode: the first "-----BEGIN TYPE-----" line anywhere, base64 up to the matching END line
 * (headers refused here: keys and certificates carry none), and what follows that line.
 */
export function decodePem(text: string): { type: string; der: Buffer; rest: string } | undefined {
  const begin = /(?:^|\n)-----BEGIN ([^\n-]*)-----[ \t]*\r?\n/.exec(text);
  if (!begin) return undefined;
  const type = begin[1] as string;
  const bodyStart = begin.index + begin[0].length;
  const endMarker = `-----END ${type}-----`;
  const end = text.indexOf(endMarker, bodyStart);
  if (end < 0) return undefined;
  const body = text.slice(bodyStart, end);
  if (body.includes(':')) return undefined;
  let restStart = end + endMarker.length;
  const trailer = /^[ \t]*(\r?\n|$)/.exec(text.slice(restStart));
  if (!trailer) return undefined;
  restStart += trailer[0].length;
  const base64 = body.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 !== 0) return undefined;
  return { type, der: Buffer.from(base64, 'base64'), rest: text.slice(restStart) };
}
