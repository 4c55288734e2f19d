import { request } from 'node:https';
import { rootCertificates } from 'node:tls';
import { KeySet } from './keyset.js';
import type { KeySource } from './source.js';

export interface RemoteOptions {
  url: string;
  /** Extra trusted CA certificates (PEM), added to the system roots. */
  ca?: string;
  timeoutMs: number;
  /** Age after which the keys are refreshed in the background while still being used. */
  maxAgeMs: number;
  /** Minimum time between two fetches, whatever asks for them. */
  minIntervalMs: number;
  maxBytes?: number;
  onError(err: Error): void;
  onLoad(keys: number): void;
}

/**
 * A JWKS served over HTTPS. Keys are cached and refreshed in the background once older than maxAgeMs; an
 * unknown kid triggers an immediate fetch unless one happened within minIntervalMs, so a flood of forged
 * kids costs the issuer at most one request per interval. When the server is down or answers garbage the
 * last good keys stay in use: an identity provider outage must not log everyone out.
 */
export class RemoteKeys implements KeySource {
  private set: KeySet | undefined;
  private loadedAt = 0;
  private attemptedAt = -Infinity;
  private inflight: Promise<KeySet | undefined> | undefined;
  private closed = false;
  private readonly ca: string[] | undefined;

  constructor(private readonly options: RemoteOptions) {
    this.ca = options.ca ? [...rootCertificates, options.ca] : undefined;
    void this.fetch();
  }

  current(): KeySet | undefined {
    if (this.set && Date.now() - this.loadedAt > this.options.maxAgeMs) void this.refresh();
    return this.set;
  }

  refresh(): Promise<KeySet | undefined> {
    if (this.inflight) return this.inflight;
    if (Date.now() - this.attemptedAt < this.options.minIntervalMs) return Promise.resolve(this.set);
    return this.fetch();
  }

  /** Resolves once the first fetch has settled (tests and start-up). */
  ready(): Promise<KeySet | undefined> {
    return this.inflight ?? Promise.resolve(this.set);
  }

  close(): void {
    this.closed = true;
  }

  private fetch(): Promise<KeySet | undefined> {
    if (this.closed) return Promise.resolve(this.set);
    this.attemptedAt = Date.now();
    this.inflight = this.download()
      .then((set) => {
        this.set = set;
        this.loadedAt = Date.now();
        this.options.onLoad(set.size);
        return set;
      })
      .catch((err: Error) => {
        this.options.onError(err);
        return this.set;
      })
      .finally(() => {
        this.inflight = undefined;
      });
    return this.inflight;
  }

  private download(): Promise<KeySet> {
    const maxBytes = this.options.maxBytes ?? 1024 * 1024;
    return new Promise((resolve, reject) => {
      const req = request(this.options.url, { method: 'GET', headers: { accept: 'application/json' }, ...(this.ca ? { ca: this.ca } : {}), timeout: this.options.timeoutMs }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Error(`JWKS ${this.options.url} answered ${res.statusCode}`));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > maxBytes) {
            req.destroy(new Error(`JWKS ${this.options.url} is larger than ${maxBytes} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => {
          try {
            const doc = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { keys?: unknown };
            if (!Array.isArray(doc.keys)) throw new Error('no "keys" array');
            resolve(new KeySet(doc.keys));
          } catch (err) {
            reject(new Error(`JWKS ${this.options.url} is not a key set: ${(err as Error).message}`));
          }
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`JWKS ${this.options.url} did not answer within ${this.options.timeoutMs} ms`)));
      req.on('error', reject);
      req.end();
    });
  }
}
