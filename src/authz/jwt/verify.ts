import { decodeJwt, decodeProtectedHeader, jwtVerify, type JWTPayload, type ProtectedHeaderParameters } from 'jose';
import type { JwtConfig } from '../config.js';
import { beforeDeadline } from '../deadline.js';
import type { KeySet, VerificationKey } from '../jwks/keyset.js';
import { VerifiedCache } from './cache.js';
import { buildIssuers, type Issuer, type IssuerHooks } from './issuers.js';
import { reasonOf, type JwtReason } from './reason.js';
import { extractToken } from './token.js';

/** What the policy sees as input.mesh.jwt. */
export type JwtFacts = { verified: true; issuer: string; claims: JWTPayload } | { verified: false; error: JwtReason; issuer?: string };

export interface JwtResult {
  facts: JwtFacts;
  /** Claim headers to send upstream when the request is allowed (configured per issuer). */
  forward?: Record<string, string>;
}

interface Verified {
  issuer: Issuer;
  claims: JWTPayload;
  forward: Record<string, string> | undefined;
}

const MISSING: JwtResult = { facts: { verified: false, error: 'missing' } };

/**
 * Verifies the request's bearer token against the configured issuers. Every failure becomes a reason in the
 * result; verify() only rejects when the deadline passes while keys are being fetched.
 */
export class JwtVerifier {
  private readonly issuers: Map<string, Issuer>;
  private readonly cache: VerifiedCache<Verified>;
  private readonly skewMs: number;
  /** Every header a claim may be forwarded in: removed from requests that do not carry that claim, so it cannot be forged. */
  readonly forwardedHeaders: readonly string[];

  constructor(
    private readonly config: JwtConfig,
    hooks: IssuerHooks,
  ) {
    this.issuers = buildIssuers(config, hooks);
    this.cache = new VerifiedCache(config.cacheSize, config.cacheSeconds * 1000);
    this.skewMs = config.clockSkewSeconds * 1000;
    this.forwardedHeaders = [...new Set(config.issuers.flatMap((i) => Object.values(i.forwardClaims).map((h) => h.toLowerCase())))];
  }

  get header(): string {
    return this.config.header;
  }

  close(): void {
    for (const i of this.issuers.values()) i.keys?.close();
  }

  async verify(headers: Record<string, string> | undefined, deadline: number): Promise<JwtResult> {
    const token = extractToken(headers, this.config.header);
    if (token === undefined) return MISSING;
    if (Buffer.byteLength(token) > this.config.maxTokenBytes) return fail('too_large');
    const now = Date.now();
    const hit = this.cache.get(token, now);
    if (hit) return result(hit);

    let header: ProtectedHeaderParameters;
    let payload: JWTPayload;
    try {
      header = decodeProtectedHeader(token);
      payload = decodeJwt(token);
    } catch {
      return fail('malformed');
    }
    const alg = header.alg;
    if (typeof alg !== 'string' || alg.toLowerCase() === 'none') return fail('alg_not_allowed');
    const issuer = typeof payload.iss === 'string' ? this.issuers.get(payload.iss) : undefined;
    if (!issuer) return fail('wrong_issuer');
    const name = issuer.config.issuer;
    if (!issuer.algorithms.has(alg)) return fail('alg_not_allowed', name);

    let keys: VerificationKey[];
    if (issuer.secret) keys = [issuer.secret];
    else {
      const kid = typeof header.kid === 'string' ? header.kid : undefined;
      let set = issuer.keys?.current();
      if (!set || (kid !== undefined && !set.has(kid))) set = await beforeDeadline(issuer.keys?.refresh() ?? Promise.resolve(undefined), deadline, `fetching the keys of ${name}`);
      if (!set) return fail('keys_unavailable', name);
      keys = await importAll(set, alg, kid);
      if (keys.length === 0) return fail('unknown_kid', name);
    }

    let reason: JwtReason = 'bad_signature';
    for (const key of keys) {
      try {
        const { payload: claims } = await jwtVerify(token, key, {
          issuer: name,
          algorithms: [alg],
          clockTolerance: this.config.clockSkewSeconds,
          ...(issuer.config.audiences.length > 0 ? { audience: issuer.config.audiences } : {}),
        });
        const verified: Verified = { issuer, claims, forward: forwardClaims(issuer, claims) };
        this.cache.set(token, verified, Date.now(), typeof claims.exp === 'number' ? claims.exp * 1000 + this.skewMs : undefined);
        return result(verified);
      } catch (err) {
        reason = reasonOf(err);
        // Only a signature mismatch is worth trying the next candidate key for; claim failures are final.
        if (reason !== 'bad_signature') break;
      }
    }
    return fail(reason, name);
  }
}

function fail(error: JwtReason, issuer?: string): JwtResult {
  return { facts: issuer ? { verified: false, error, issuer } : { verified: false, error } };
}

function result(v: Verified): JwtResult {
  return { facts: { verified: true, issuer: v.issuer.config.issuer, claims: v.claims }, ...(v.forward ? { forward: v.forward } : {}) };
}

async function importAll(set: KeySet, alg: string, kid: string | undefined): Promise<VerificationKey[]> {
  const keys = await Promise.all(set.candidates(alg, kid).map((jwk) => set.key(jwk, alg)));
  return keys.filter((k): k is VerificationKey => k !== undefined);
}

function forwardClaims(issuer: Issuer, claims: JWTPayload): Record<string, string> | undefined {
  const entries = Object.entries(issuer.config.forwardClaims);
  if (entries.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const [claim, header] of entries) {
    const v = claims[claim];
    if (v === undefined || v === null) continue;
    const text = typeof v === 'string' ? v : JSON.stringify(v);
    // A claim is attacker-influenced text: never let it split a header.
    if (/[\0-\x1f\x7f]/.test(text)) continue;
    out[header.toLowerCase()] = text;
  }
  return out;
}
