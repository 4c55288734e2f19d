// A JWT issuer for tests: real key pairs, real signatures (jose), and the attacks a verifier must refuse.
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { SignJWT, base64url, exportJWK, generateKeyPair, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export interface TestKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

export async function testKey(kid: string, alg = 'RS256'): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, jwk };
}

export const ISSUER = 'https://issuer.portcullis.test';
export const AUDIENCE = 'payments';

/** A token signed by key with sensible defaults (issuer, audience, one hour of validity); `claims` overrides them. */
export async function sign(key: TestKey, claims: JWTPayload = {}, header: Record<string, unknown> = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: 'user-1', iat: now, exp: now + 3600, ...claims })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...header })
    .sign(key.privateKey);
}

/** An unsigned token ("alg": "none"), as an attacker would forge it. */
export function unsigned(claims: JWTPayload): string {
  const enc = (o: object) => base64url.encode(JSON.stringify(o));
  return `${enc({ alg: 'none', typ: 'JWT' })}.${enc(claims)}.`;
}

/** The classic confusion attack: HS256 keyed with the issuer's RSA public key (PEM), hoping the verifier uses it as a secret. */
export async function hmacWithPublicKey(key: TestKey, claims: JWTPayload): Promise<string> {
  const pem = createPublicKey({ key: key.jwk as JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: key.kid, typ: 'JWT' }).sign(new TextEncoder().encode(pem as string));
}
