import type { KeySet } from './keyset.js';

/** Where an issuer's public keys come from: inline, a file, or an HTTPS endpoint. */
export interface KeySource {
  /** The keys known now, possibly stale; undefined before the first successful load. */
  current(): KeySet | undefined;
  /**
   * Asked when a token names a key id that current() does not have: a remote source fetches again unless it
   * did so very recently, and resolves with whatever it then knows. Never rejects.
   */
  refresh(): Promise<KeySet | undefined>;
  close(): void;
}

/** An inline set: never changes. */
export class StaticKeys implements KeySource {
  constructor(private readonly set: KeySet) {}

  current(): KeySet {
    return this.set;
  }

  refresh(): Promise<KeySet> {
    return Promise.resolve(this.set);
  }

  close(): void {}
}
