import { readFileSync } from 'node:fs';
import type { IssuerConfig, JwtConfig } from '../config.js';
import { FileKeys } from '../jwks/file.js';
import { KeySet } from '../jwks/keyset.js';
import { RemoteKeys } from '../jwks/remote.js';
import { StaticKeys, type KeySource } from '../jwks/source.js';

export interface Issuer {
  config: IssuerConfig;
  algorithms: ReadonlySet<string>;
  /** Public keys, for every issuer but the HMAC ones. */
  keys?: KeySource;
  /** Shared secret, for HMAC issuers only. */
  secret?: Uint8Array;
}

interface Logger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface IssuerHooks {
  log: Logger;
  onFetchError(issuer: string): void;
}

const HMAC = /^HS/;

/**
 * Builds the configured issuers. Refuses, with the issuer named, a configuration that would weaken
 * verification: `none`, HMAC with a public key set (anyone holding the public key could sign), or an
 * issuer with zero or several key sources.
 */
export function buildIssuers(config: JwtConfig, hooks: IssuerHooks): Map<string, Issuer> {
  const issuers = new Map<string, Issuer>();
  const ca = config.jwksCaFile ? readFileSync(config.jwksCaFile, 'utf8') : undefined;
  for (const c of config.issuers) {
    const where = `authz.jwt.issuers[${JSON.stringify(c.issuer)}]`;
    if (issuers.has(c.issuer)) throw new Error(`${where}: configured twice`);
    const sources = [c.jwks, c.jwksFile, c.jwksUri, c.secretFile].filter((s) => s !== undefined);
    if (sources.length !== 1) throw new Error(`${where}: needs exactly one of jwks, jwksFile, jwksUri, secretFile`);
    const hmac = c.algorithms.filter((a) => HMAC.test(a));
    if (c.secretFile) {
      if (hmac.length !== c.algorithms.length) throw new Error(`${where}: a secretFile issuer only takes HS256/HS384/HS512`);
      const secret = readFileSync(c.secretFile);
      if (secret.length < 32) throw new Error(`${where}: the HMAC secret must be at least 32 bytes`);
      issuers.set(c.issuer, { config: c, algorithms: new Set(c.algorithms), secret });
      continue;
    }
    if (hmac.length > 0) throw new Error(`${where}: HMAC algorithms (${hmac.join(', ')}) are not allowed with a public key set`);
    let keys: KeySource;
    if (c.jwks) keys = new StaticKeys(new KeySet(c.jwks.keys));
    else if (c.jwksFile) keys = new FileKeys(c.jwksFile, hooks.log);
    else {
      const url = c.jwksUri as string;
      keys = new RemoteKeys({
        url,
        ...(ca ? { ca } : {}),
        timeoutMs: config.jwksTimeoutMs,
        maxAgeMs: config.jwksCacheSeconds * 1000,
        minIntervalMs: config.jwksMinRefreshSeconds * 1000,
        onError: (err) => {
          hooks.onFetchError(c.issuer);
          hooks.log.warn({ issuer: c.issuer, err: err.message }, 'JWKS fetch failed; the previous keys stay in use');
        },
        onLoad: (n) => hooks.log.info({ issuer: c.issuer, keys: n }, 'JWKS fetched'),
      });
    }
    issuers.set(c.issuer, { config: c, algorithms: new Set(c.algorithms), keys });
  }
  return issuers;
}
