import { constants, createHmac, createPublicKey, KeyObject, sign as cryptoSign, timingSafeEqual, verify as cryptoVerify } from 'node:crypto';
import { GoJsonError, goMarshal, parseGoJson } from '../value/go-json.js';
import { RawNumber } from '../value/raw-number.js';
import { base64UrlDecode } from './base64.js';
import { BuiltinError, obj, str, type Builtin, type Evaluation } from './builtin.js';
import { keyFromJwk, keysFromCertOrJwk, TOKEN_ALGORITHMS, type VerificationKey } from './jwt-keys.js';

/**
 * The io.jwt.* builtins as OPA's Go implementation has them (topdown/tokens.go): the same parts decoded the
 * same way (base64url.decode, JSON with numbers kept), the same keys accepted, and the same outcomes: a
 * malformed token or key is an error (so undefined), a signature that does not verify is `false` (or
 * [false, {}, {}] for decode_verify).
 */
interface Token {
  header: string;
  payload: string;
  signature: string;
}

function split(token: string): Token {
  if (!token.includes('.')) throw new BuiltinError('encoded JWT had no period separators');
  const parts = token.split('.');
  if (parts.length !== 3) throw new BuiltinError(`encoded JWT must have 3 sections, found ${parts.length}`);
  return { header: parts[0] as string, payload: parts[1] as string, signature: parts[2] as string };
}

/** A JSON object from decoded bytes, as OPA's extractJSONObject (json.unmarshal, then an object check). */
function jsonObject(bytes: Buffer): Record<string, unknown> {
  let value: unknown;
  try {
    value = parseGoJson(bytes.toString('utf8'));
  } catch (err) {
    if (err instanceof GoJsonError) throw new BuiltinError(`invalid JSON: ${err.message}`);
    throw err;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BuiltinError('decoded JSON type was not an Object');
  return value as Record<string, unknown>;
}

function decodeHeader(t: Token): Record<string, unknown> {
  const header = jsonObject(base64UrlDecode(t.header));
  if (header.enc !== undefined) throw new BuiltinError('JWT is a JWE object, which is not supported');
  return header;
}

interface Header {
  alg: string;
  kid: string;
  cty: string;
  crit: Set<string>;
  unknown: string[];
}

/** The header parameters OPA reads, each checked for its type (parseTokenHeader). */
function parseHeader(decoded: Record<string, unknown>): Header {
  const h: Header = { alg: '', kid: '', cty: '', crit: new Set(), unknown: [] };
  for (const [k, v] of Object.entries(decoded)) {
    if (k === 'alg' || k === 'kid' || k === 'typ' || k === 'cty') {
      if (typeof v !== 'string') throw new BuiltinError(`${k}: must be a string`);
      if (k !== 'typ') h[k as 'alg' | 'kid' | 'cty'] = v;
    } else if (k === 'crit') {
      if (!Array.isArray(v)) throw new BuiltinError('crit: must be a list');
      for (const c of v) if (typeof c === 'string') h.crit.add(c);
      if (h.crit.size === 0) throw new BuiltinError('crit: must be a nonempty list');
    } else h.unknown.push(k);
  }
  return h;
}

function decode(args: unknown[]): unknown {
  const t = split(str(args, 0));
  const header = decodeHeader(t);
  const payload = base64UrlDecode(t.payload);
  // A nested token (cty JWT) is decoded in turn; jwt.io quotes it, so quotes are trimmed first.
  if (header.cty !== undefined && typeof header.cty === 'string' && header.cty === 'JWT') {
    return decode([payload.toString('utf8').replace(/^["']+|["']+$/g, '')]);
  }
  const claims = jsonObject(payload);
  return [header, claims, base64UrlDecode(t.signature).toString('hex')];
}

// -- Signature checks, as jwsbb.Verify does them for decode_verify.

const HASHES: Record<string, string> = { 256: 'sha256', 384: 'sha384', 512: 'sha512' };

/** jwsbb verifies with a private key's public half (it is a crypto.Signer there). */
function publicOf(key: KeyObject): KeyObject {
  return key.type === 'private' ? createPublicKey(key) : key;
}

/** RS/PS signatures: PKCS#1 v1.5, or PSS with the salt length `pss` ('hash' as JWS says, 'auto' as Go's nil options). */
function verifyRsa(key: KeyObject, hash: string, data: Buffer, sig: Buffer, pss?: 'hash' | 'auto'): boolean {
  if (key.asymmetricKeyType !== 'rsa') return false;
  try {
    return cryptoVerify(hash, data, pss ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: pss === 'auto' ? constants.RSA_PSS_SALTLEN_AUTO : constants.RSA_PSS_SALTLEN_DIGEST } : key, sig);
  } catch {
    return false;
  }
}

const CURVE_BYTES: Record<string, number> = { prime256v1: 32, secp384r1: 48, secp521r1: 66 };

/**
 * ECDSA over r||s. `exact`: the JWS rule (decode_verify) that the signature is exactly twice the curve's
 * size; without it, as OPA's verify_es*, the signature is cut in half whatever its length.
 */
function verifyEc(key: KeyObject, hash: string, data: Buffer, sig: Buffer, exact: boolean): boolean {
  if (key.asymmetricKeyType !== 'ec') return false;
  const size = CURVE_BYTES[key.asymmetricKeyDetails?.namedCurve ?? ''];
  if (!size) return false;
  if (exact && sig.length !== size * 2) return false;
  const half = Math.floor(sig.length / 2);
  const r = fixed(sig.subarray(0, half), size);
  const s = fixed(sig.subarray(half), size);
  if (!r || !s) return false;
  try {
    return cryptoVerify(hash, data, { key, dsaEncoding: 'ieee-p1363' }, Buffer.concat([r, s]));
  } catch {
    return false;
  }
}

/** A big-endian integer in exactly `size` bytes, or undefined when it does not fit (so it exceeds the order). */
function fixed(b: Buffer, size: number): Buffer | undefined {
  let start = 0;
  while (start < b.length && b[start] === 0) start++;
  const digits = b.subarray(start);
  if (digits.length > size) return undefined;
  return Buffer.concat([Buffer.alloc(size - digits.length), digits]);
}

function verifyEd(key: KeyObject, data: Buffer, sig: Buffer): boolean {
  if (key.asymmetricKeyType !== 'ed25519') return false;
  try {
    return cryptoVerify(null, data, key, sig);
  } catch {
    return false;
  }
}

function hmacEqual(secret: Buffer, hash: string, data: Buffer, sig: Buffer): boolean {
  const mac = createHmac(hash, secret).update(data).digest();
  return mac.length === sig.length && timingSafeEqual(mac, sig);
}

/** jwsbb.Verify: the algorithm names the check; a key of another kind does not verify. */
function jwsVerify(key: KeyObject | Buffer, alg: string, data: Buffer, sig: Buffer): boolean {
  const bits = HASHES[alg.slice(2)];
  if (!TOKEN_ALGORITHMS.has(alg)) return false;
  if (alg === 'EdDSA') return key instanceof KeyObject && verifyEd(publicOf(key), data, sig);
  if (alg.startsWith('HS')) return Buffer.isBuffer(key) && hmacEqual(key, bits as string, data, sig);
  if (Buffer.isBuffer(key)) return false;
  const pub = publicOf(key);
  if (alg.startsWith('RS')) return verifyRsa(pub, bits as string, data, sig);
  if (alg.startsWith('PS')) return verifyRsa(pub, bits as string, data, sig, 'hash');
  return verifyEc(pub, bits as string, data, sig, true);
}

// -- io.jwt.verify_*

type Check = (key: KeyObject | Buffer, data: Buffer, sig: Buffer) => boolean;

/**
 * Signature checks already made, by token and key: the same token against the same keys verifies the
 * same way, so a client reusing its token costs one RSA or ECDSA verification, not one per request
 * (OPA keeps such a cache too, io_jwt, off by default). Bounded; the oldest check is forgotten first.
 */
const verified = new Map<string, boolean>();
const VERIFIED_ENTRIES = 10000;

function remembered(key: string, check: () => boolean): boolean {
  const hit = verified.get(key);
  if (hit !== undefined) return hit;
  const ok = check();
  if (verified.size >= VERIFIED_ENTRIES) verified.delete(verified.keys().next().value as string);
  verified.set(key, ok);
  return ok;
}

/** builtinJWTVerify: a key whose kid the token names, else each key whose alg matches the token's (or has none). */
function verifyWithKeys(args: unknown[], check: Check, name: string): boolean {
  const token = str(args, 0);
  const keyText = str(args, 1);
  const t = split(token);
  const keys = keysFromCertOrJwk(keyText);
  const sig = base64UrlDecode(t.signature);
  const header = parseHeader(decodeHeader(t));
  const data = Buffer.from(`${t.header}.${t.payload}`);
  return remembered(`${name}\0${token}\0${keyText}`, () => {
    const byKid = header.kid !== '' ? keys.find((k) => k.kid === header.kid) : undefined;
    if (byKid) return check(byKid.key, data, sig);
    return keys.some((k) => (k.alg === '' || k.alg === header.alg) && check(k.key, data, sig));
  });
}

// verify_* take the key as it came: a private JWK is not a public key there (Go's type assertion fails).
const asymmetric = (key: KeyObject | Buffer): KeyObject | undefined => (key instanceof KeyObject && key.type === 'public' ? key : undefined);

function rsaCheck(bits: string, pss: boolean): Check {
  return (key, data, sig) => {
    const k = asymmetric(key);
    return k !== undefined && verifyRsa(k, bits, data, sig, pss ? 'auto' : undefined);
  };
}

function ecCheck(bits: string): Check {
  return (key, data, sig) => {
    const k = asymmetric(key);
    return k !== undefined && verifyEc(k, bits, data, sig, false);
  };
}

function hsVerify(bits: string): Builtin {
  return (args) => {
    const token = str(args, 0);
    const secret = str(args, 1);
    const t = split(token);
    const sig = base64UrlDecode(t.signature);
    return hmacEqual(Buffer.from(secret), bits, Buffer.from(`${t.header}.${t.payload}`), sig);
  };
}

// -- io.jwt.decode_verify

interface Constraints {
  keys?: VerificationKey[];
  /** The text the keys came from (cert) or the secret, to remember checks by. */
  keySource: string;
  secret: string;
  alg: string;
  iss: string;
  aud: string;
  /** Nanoseconds. */
  time: number;
}

function constraintsOf(o: Record<string, unknown>, evaluation: Evaluation): Constraints {
  const c: Constraints = { keySource: '', secret: '', alg: '', iss: '', aud: '', time: -1 };
  for (const [name, v] of Object.entries(o)) {
    switch (name) {
      case 'cert':
        if (typeof v !== 'string') throw new BuiltinError('cert constraint: must be a string');
        c.keys = keysFromCertOrJwk(v);
        c.keySource = `cert\0${v}`;
        break;
      case 'secret':
      case 'alg':
      case 'iss':
      case 'aud':
        if (typeof v !== 'string') throw new BuiltinError(`${name} constraint: must be a string`);
        c[name] = v;
        break;
      case 'time': {
        if (typeof v !== 'number' && !(v instanceof RawNumber)) throw new BuiltinError('token time constraint: must be a number');
        const t = Number(v);
        if (!Number.isFinite(t)) throw new BuiltinError('token time constraint: unvalid float64');
        if (t < 0) throw new BuiltinError('token time constraint: must not be negative');
        c.time = t;
        break;
      }
      default:
        throw new BuiltinError(`unknown token validation constraint: ${name}`);
    }
  }
  if (c.time === -1) c.time = Number(evaluation.now());
  if (!c.keys) c.keySource = `secret\0${c.secret}`;
  const keys = (c.keys ? 1 : 0) + (c.secret !== '' ? 1 : 0);
  if (keys > 1) throw new BuiltinError('duplicate key constraints');
  if (keys < 1) throw new BuiltinError('no key constraint');
  return c;
}

function signatureVerifies(c: Constraints, header: Header, data: Buffer, sig: Buffer): boolean {
  if (c.keys) {
    const byKid = header.kid !== '' ? c.keys.find((k) => k.kid === header.kid) : undefined;
    if (byKid) return jwsVerify(byKid.key, header.alg, data, sig);
    return c.keys.some((k) => (k.alg === '' || k.alg === header.alg) && jwsVerify(k.key, header.alg, data, sig));
  }
  return jwsVerify(Buffer.from(c.secret), header.alg, data, sig);
}

const UNVERIFIED = (): unknown[] => [false, {}, {}];

function decodeVerify(args: unknown[], evaluation: Evaluation): unknown {
  const c = constraintsOf(obj(args, 1), evaluation);
  let token: unknown = args[0];
  let header: Record<string, unknown>;
  let payload: Buffer;
  for (;;) {
    if (typeof token !== 'string') throw new BuiltinError('operand 1 must be string');
    const t = split(token);
    header = decodeHeader(t);
    const h = parseHeader(header);
    // RFC 7515 4.1.1 and 4.1.11: no alg, or a critical parameter not understood, is not a valid token.
    if (h.alg === '' || h.unknown.some((u) => h.crit.has(u))) return UNVERIFIED();
    if (c.alg !== '' && c.alg !== h.alg) return UNVERIFIED();
    const sig = base64UrlDecode(t.signature);
    if (!remembered(`decode_verify\0${token}\0${c.keySource}`, () => signatureVerifies(c, h, Buffer.from(`${t.header}.${t.payload}`), sig))) return UNVERIFIED();
    payload = base64UrlDecode(t.payload);
    if (h.cty.toLowerCase() !== 'jwt') break;
    token = payload.toString('utf8');
  }
  const claims = jsonObject(payload);
  if (c.iss !== '') {
    if (claims.iss === undefined || claims.iss !== c.iss) return UNVERIFIED();
  }
  if (claims.aud !== undefined) {
    const aud = claims.aud;
    const ok = typeof aud === 'string' ? aud === c.aud : Array.isArray(aud) && aud.some((a) => typeof a === 'string' && a === c.aud);
    if (!ok) return UNVERIFIED();
  } else if (c.aud !== '') return UNVERIFIED();
  const now = c.time / 1e9;
  if (claims.exp !== undefined) {
    if (typeof claims.exp !== 'number' && !(claims.exp instanceof RawNumber)) throw new BuiltinError('exp value must be a number');
    if (!(now < Number(claims.exp))) return UNVERIFIED();
  }
  if (claims.nbf !== undefined) {
    if (typeof claims.nbf !== 'number' && !(claims.nbf instanceof RawNumber)) throw new BuiltinError('nbf value must be a number');
    if (now < Number(claims.nbf)) return UNVERIFIED();
  }
  return [true, header, claims];
}

// -- io.jwt.encode_sign*

function encodeSign(headers: string, payload: string, jwkText: string): string {
  let jwk: unknown;
  try {
    jwk = JSON.parse(jwkText);
  } catch (err) {
    throw new BuiltinError(`failed to parse JWK: ${(err as Error).message}`);
  }
  const first = typeof jwk === 'object' && jwk !== null && Array.isArray((jwk as { keys?: unknown }).keys) ? (jwk as { keys: unknown[] }).keys[0] : jwk;
  if (first === undefined) throw new BuiltinError('no keys found in JWK set');
  const key = keyFromJwk(first);
  let parsed: unknown;
  try {
    parsed = JSON.parse(headers);
  } catch {
    parsed = undefined;
  }
  const h = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  if (typeof h.alg !== 'string') throw new BuiltinError("missing or invalid 'alg' header");
  const alg = h.alg;
  if (!TOKEN_ALGORITHMS.has(alg)) throw new BuiltinError(`unknown JWS algorithm: ${alg}`);
  if ((typeof h.typ !== 'string' || h.typ === 'JWT') && !isJson(payload)) throw new BuiltinError('type is JWT but payload is not JSON');
  const input = `${Buffer.from(headers).toString('base64url')}.${Buffer.from(payload).toString('base64url')}`;
  return `${input}.${jwsSign(key, alg, Buffer.from(input)).toString('base64url')}`;
}

function isJson(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}

function jwsSign(key: KeyObject | Buffer, alg: string, data: Buffer): Buffer {
  const bits = HASHES[alg.slice(2)] as string;
  try {
    if (alg.startsWith('HS')) {
      if (!Buffer.isBuffer(key)) throw new Error('an HMAC key must be a symmetric (oct) key');
      return createHmac(bits, key).update(data).digest();
    }
    if (Buffer.isBuffer(key) || key.type !== 'private') throw new Error('signing needs a private key');
    if (alg === 'EdDSA') return cryptoSign(null, data, key);
    if (alg.startsWith('RS')) return cryptoSign(bits, data, key);
    if (alg.startsWith('PS')) return cryptoSign(bits, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST });
    return cryptoSign(bits, data, { key, dsaEncoding: 'ieee-p1363' });
  } catch (err) {
    throw new BuiltinError(`failed to sign: ${(err as Error).message}`);
  }
}

export const jwtBuiltins: Record<string, Builtin> = {
  'io.jwt.decode': decode,
  'io.jwt.decode_verify': decodeVerify,
  'io.jwt.verify_rs256': (args) => verifyWithKeys(args, rsaCheck('sha256', false), 'rs256'),
  'io.jwt.verify_rs384': (args) => verifyWithKeys(args, rsaCheck('sha384', false), 'rs384'),
  'io.jwt.verify_rs512': (args) => verifyWithKeys(args, rsaCheck('sha512', false), 'rs512'),
  'io.jwt.verify_ps256': (args) => verifyWithKeys(args, rsaCheck('sha256', true), 'ps256'),
  'io.jwt.verify_ps384': (args) => verifyWithKeys(args, rsaCheck('sha384', true), 'ps384'),
  'io.jwt.verify_ps512': (args) => verifyWithKeys(args, rsaCheck('sha512', true), 'ps512'),
  'io.jwt.verify_es256': (args) => verifyWithKeys(args, ecCheck('sha256'), 'es256'),
  'io.jwt.verify_es384': (args) => verifyWithKeys(args, ecCheck('sha384'), 'es384'),
  'io.jwt.verify_es512': (args) => verifyWithKeys(args, ecCheck('sha512'), 'es512'),
  'io.jwt.verify_eddsa': (args) =>
    verifyWithKeys(
      args,
      (key, data, sig) => {
        const k = asymmetric(key);
        return k !== undefined && verifyEd(k, data, sig);
      },
      'eddsa',
    ),
  'io.jwt.verify_hs256': hsVerify('sha256'),
  'io.jwt.verify_hs384': hsVerify('sha384'),
  'io.jwt.verify_hs512': hsVerify('sha512'),
  'io.jwt.encode_sign': (args) => encodeSign(goMarshal(obj(args, 0)), goMarshal(obj(args, 1)), goMarshal(obj(args, 2))),
  'io.jwt.encode_sign_raw': (args) => encodeSign(str(args, 0), str(args, 1), str(args, 2)),
};
