import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { KeySet } from './keyset.js';
import type { KeySource } from './source.js';

interface Logger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** A JSON Web Key Set on disk (a mounted Secret or ConfigMap), re-read when it changes; a broken file keeps the last good keys. */
export class FileKeys implements KeySource {
  private set: KeySet | undefined;

  constructor(
    private readonly path: string,
    private readonly log: Logger,
  ) {
    this.load();
    watchFile(path, { interval: 1000, persistent: false }, () => this.load());
  }

  current(): KeySet | undefined {
    return this.set;
  }

  refresh(): Promise<KeySet | undefined> {
    return Promise.resolve(this.set);
  }

  close(): void {
    unwatchFile(this.path);
  }

  private load(): void {
    try {
      const doc = JSON.parse(readFileSync(this.path, 'utf8')) as { keys?: unknown };
      if (!Array.isArray(doc.keys)) throw new Error('no "keys" array');
      this.set = new KeySet(doc.keys);
      this.log.info({ jwksFile: this.path, keys: this.set.size }, 'JWKS loaded');
    } catch (err) {
      this.log.error({ jwksFile: this.path, err: (err as Error).message }, 'JWKS file not loaded; keeping the previous keys');
    }
  }
}
