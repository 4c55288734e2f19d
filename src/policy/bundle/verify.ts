import { createPublicKey, createSecretKey, X509Certificate, type KeyObject } from 'node:crypto';
import { compactVerify, decodeProtectedHeader, errors as joseErrors } from 'jose';
import { BundleError } from './errors.js';
import type { BundleFiles } from './files.js';
import { hashBundleFile } from './structured-hash.js';

/** A key that may sign bundles, as OPA's `keys` configuration names it. */
export interface VerificationKey {
  algorithm: string;
  /** PEM public key or certificate for RS/PS/ES algorithms, the shared secret for HS algorithms. */
  key: string;
  scope?: string;
}

/** How one bundle is verified, as OPA's per-bundle `signing` configuration. */
export interface VerificationConfig {
  keys: Record<string, VerificationKey>;
  /** Key to use whatever the signature names. */
  keyId?: string;
  scope?: string;
  /** Glob patterns (one path segment per `*`) of files left out of verification. */
  excludeFiles?: string[];
}

const SIGNATURES_FILE = '.signatures.json';
const ALGORITHMS = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'HS256', 'HS384', 'HS512']);

interface SignedFile {
  name: string;
  hash: string;
  algorithm: string;
}

/**
 * Verifies OPA's bundle signature: `.signatures.json` holds one JWS whose payload lists every file of the
 * bundle with its digest. Every file present must be listed with a matching digest and every listed file
 * must be present, so nothing can be added, changed or removed without the key.
 */
export async function verifyBundle(bundle: string, files: BundleFiles, config: VerificationConfig): Promise<void> {
  const raw = files.get(SIGNATURES_FILE);
  if (!raw) throw new BundleError(bundle, `unsigned bundle refused: ${SIGNATURES_FILE} is missing and a verification key is configured`);
  const token = readToken(bundle, raw);

  let header: ReturnType<typeof decodeProtectedHeader>;
  let claims: { files?: unknown; keyid?: unknown; scope?: unknown };
  try {
    header = decodeProtectedHeader(token);
    const payload = token.split('.')[1] ?? '';
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof claims;
  } catch (err) {
    throw new BundleError(bundle, `${SIGNATURES_FILE} holds a malformed JWS: ${(err as Error).message}`, { cause: err });
  }
  const keyId = config.keyId ?? (typeof header.kid === 'string' ? header.kid : undefined) ?? (typeof claims.keyid === 'string' ? claims.keyid : undefined);
  if (!keyId) throw new BundleError(bundle, 'signature names no key id and none is configured');
  const key = config.keys[keyId];
  if (!key) throw new BundleError(bundle, `signature is by key ${JSON.stringify(keyId)}, which is not configured`);
  if (!ALGORITHMS.has(key.algorithm)) throw new BundleError(bundle, `key ${keyId} has unsupported algorithm ${key.algorithm}`);

  try {
    await compactVerify(token, importKey(key), { algorithms: [key.algorithm] });
  } catch (err) {
    const reason = err instanceof joseErrors.JOSEAlgNotAllowed ? `signed with ${String(header.alg)}, key ${keyId} expects ${key.algorithm}` : (err as Error).message;
    throw new BundleError(bundle, `signature verification failed: ${reason}`, { cause: err });
  }

  const scope = config.scope ?? key.scope ?? '';
  if ((typeof claims.scope === 'string' ? claims.scope : '') !== scope) throw new BundleError(bundle, 'signature scope mismatch');
  checkFiles(bundle, files, readSignedFiles(bundle, claims.files), config.excludeFiles ?? []);
}

function readToken(bundle: string, raw: Buffer): string {
  let doc: unknown;
  try {
    doc = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new BundleError(bundle, `${SIGNATURES_FILE} is not valid JSON`);
  }
  const signatures = (doc as { signatures?: unknown } | null)?.signatures;
  if (!Array.isArray(signatures) || signatures.length !== 1 || typeof signatures[0] !== 'string') {
    throw new BundleError(bundle, `${SIGNATURES_FILE} must hold exactly one JWS in "signatures"`);
  }
  return signatures[0];
}

function readSignedFiles(bundle: string, files: unknown): Map<string, SignedFile> {
  if (!Array.isArray(files)) throw new BundleError(bundle, 'signature payload has no "files" list');
  const out = new Map<string, SignedFile>();
  for (const f of files as SignedFile[]) {
    if (typeof f?.name !== 'string' || typeof f.hash !== 'string' || typeof f.algorithm !== 'string') {
      throw new BundleError(bundle, 'signature payload lists a file without name, hash and algorithm');
    }
    out.set(f.name.replace(/^\/+/, ''), f);
  }
  return out;
}

function checkFiles(bundle: string, files: BundleFiles, signed: Map<string, SignedFile>, exclude: string[]): void {
  const excluded = exclude.map(globToRegExp);
  for (const [path, content] of files) {
    if (path === SIGNATURES_FILE || excluded.some((re) => re.test(path))) {
      signed.delete(path);
      continue;
    }
    const entry = signed.get(path);
    if (!entry) throw new BundleError(bundle, `file ${path} is not covered by the signature`);
    let digest: string;
    try {
      digest = hashBundleFile(path, content, entry.algorithm);
    } catch (err) {
      throw new BundleError(bundle, `cannot hash ${path}: ${(err as Error).message}`, { cause: err });
    }
    if (digest !== entry.hash.toLowerCase()) throw new BundleError(bundle, `file ${path} does not match its signed digest`);
    signed.delete(path);
  }
  if (signed.size > 0) throw new BundleError(bundle, `signed file(s) missing from the bundle: ${[...signed.keys()].join(', ')}`);
}

function importKey(key: VerificationKey): KeyObject {
  if (key.algorithm.startsWith('HS')) return createSecretKey(Buffer.from(key.key, 'utf8'));
  if (key.key.includes('BEGIN CERTIFICATE')) return new X509Certificate(key.key).publicKey;
  return createPublicKey(key.key);
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${body}$`);
}
