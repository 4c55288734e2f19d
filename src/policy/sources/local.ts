import { watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { readArchive } from '../bundle/archive.js';
import { fingerprint, readDirectory } from '../bundle/directory.js';
import { BundleError } from '../bundle/errors.js';
import type { BundleFiles, BundleLimits } from '../bundle/files.js';
import type { BundleSource, SourceHandlers } from './source.js';

export interface LocalSourceOptions {
  name: string;
  /** A bundle directory or a .tar.gz file; either may be a symlink (git-sync swaps its `--link` this way). */
  path: string;
  limits: BundleLimits;
  /** How often to look for changes that no watch event announced, in ms. */
  pollIntervalMs?: number;
}

/**
 * A bundle on the local filesystem. File watches trigger a check at once; a periodic fingerprint catches what
 * watches miss (a symlink swapped under the watched path, network filesystems). Changes are debounced so a
 * half-written tree is not read mid-copy.
 */
export class LocalSource implements BundleSource {
  readonly description: string;
  private watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private last: string | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly options: LocalSourceOptions) {
    this.description = `local ${options.path}`;
  }

  start(handlers: SourceHandlers): void {
    const check = () => {
      clearTimeout(this.debounce);
      this.debounce = setTimeout(() => {
        this.running = this.running.then(() => this.check(handlers));
      }, 100);
    };
    for (const target of [this.options.path, dirname(this.options.path)]) {
      try {
        const w = watch(target, { persistent: false }, (_event, file) => {
          if (target === this.options.path || !file || file.toString() === basename(this.options.path)) check();
        });
        w.on('error', () => undefined);
        this.watchers.push(w);
      } catch {
        // Not there yet (or not watchable): the poll below still notices when it appears.
      }
    }
    this.timer = setInterval(check, this.options.pollIntervalMs ?? 2000);
    this.timer.unref();
    this.running = this.check(handlers);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.debounce);
    for (const w of this.watchers) w.close();
    await this.running;
  }

  private async check(handlers: SourceHandlers): Promise<void> {
    if (this.stopped) return;
    const print = await fingerprint(this.options.path);
    if (print === this.last) return;
    this.last = print;
    let files: BundleFiles;
    try {
      const { name, path, limits } = this.options;
      const info = await stat(path);
      if (info.isDirectory()) files = await readDirectory(name, path, limits);
      else if (info.size > limits.maxArchiveBytes) throw new BundleError(name, `archive is ${info.size} bytes, over the limit of ${limits.maxArchiveBytes}`);
      else files = await readArchive(name, await readFile(path), limits);
    } catch (err) {
      // A bad bundle stays bad until it changes; an I/O failure (a swap mid-read) is worth another look.
      if (!(err instanceof BundleError)) this.last = undefined;
      handlers.error(err as Error);
      return;
    }
    await handlers.update(files, {});
  }
}
