import { importJWK, type CryptoKey, type JWK } from 'jose';

/** Key types each algorithm family may use: a key is never tried with an algorithm of another family. */
const KTY: Record<string, string> = { RS: 'RSA', PS: 'RSA', ES: 'EC', Ed: 'OKP' };

export type VerificationKey = CryptoKey | Uint8Array;

/**
 * One JSON Web Key Set, immutable: the keys a token may be checked against, imported once per key and
 * algorithm. Symmetric (oct) keys are ignored, so a published set can never turn into an HMAC secret.
 */
export class KeySet {
  private readonly imported = new Map<string, Promise<VerificationKey | undefined>>();
  readonly keys: readonly JWK[];

  constructor(keys: readonly unknown[]) {
    this.keys = keys.filter((k): k is JWK => typeof k === 'object' && k !== null && typeof (k as JWK).kty === 'string' && (k as JWK).kty !== 'oct' && (k as JWK).use !== 'enc');
  }

  get size(): number {
    return this.keys.length;
  }

  /** Keys that may have signed a token with this header: same kid when it names one, same key type, alg not contradicting. */
  candidates(alg: string, kid: string | undefined): JWK[] {
    const kty = KTY[alg.slice(0, 2)];
    return this.keys.filter((k) => k.kty === kty && (kid === undefined || k.kid === kid) && (k.alg === undefined || k.alg === alg));
  }

  has(kid: string): boolean {
    return this.keys.some((k) => k.kid === kid);
  }

  /** The imported key, or undefined when the JWK cannot be imported for this algorithm (wrong curve, broken key). */
  key(jwk: JWK, alg: string): Promise<VerificationKey | undefined> {
    const id = `${this.keys.indexOf(jwk)}:${alg}`;
    let key = this.imported.get(id);
    if (!key) {
      key = importJWK({ ...jwk, ext: true }, alg).catch(() => undefined);
      this.imported.set(id, key);
    }
    return key;
  }
}
