import { BundleError } from './errors.js';

/** The files of a bundle by path relative to its root ("data.json", "policies/x.rego"), read but not yet interpreted. */
export type BundleFiles = Map<string, Buffer>;

/** Bounds on what a bundle may hold; they stop decompression bombs and runaway uploads before they cost memory. */
export interface BundleLimits {
  /** Bytes of the archive as downloaded (compressed). */
  maxArchiveBytes: number;
  /** Bytes of all files together once decompressed. */
  maxTotalBytes: number;
  /** Bytes of any single file. */
  maxFileBytes: number;
  /** Number of files. */
  maxFiles: number;
}

export const DEFAULT_LIMITS: BundleLimits = {
  maxArchiveBytes: 32 * 1024 * 1024,
  maxTotalBytes: 128 * 1024 * 1024,
  maxFileBytes: 64 * 1024 * 1024,
  maxFiles: 10_000,
};

/**
 * Turns an archive or directory entry name into a bundle path. OPA writes its tarballs with a leading "/"
 * meaning the bundle root, so one leading slash is accepted; anything that could reach outside the root
 * (.., a second leading slash, backslashes, NUL) is refused.
 */
function bundlePath(bundle: string, name: string): string {
  let path = name.startsWith('./') ? name.slice(2) : name;
  if (path.startsWith('/')) path = path.slice(1);
  if (path === '' || path.startsWith('/') || path.includes('\\') || path.includes('\0') || /^[A-Za-z]:/.test(path)) {
    throw new BundleError(bundle, `illegal path ${JSON.stringify(name)} in bundle`);
  }
  const segments = path.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) throw new BundleError(bundle, `illegal path ${JSON.stringify(name)} in bundle (contains "..")`);
  return segments.join('/');
}

/** Collects files while enforcing the limits, so each reader (archive, directory) shares the same rules. */
export class FileCollector {
  readonly files: BundleFiles = new Map();
  private total = 0;

  constructor(
    private readonly bundle: string,
    private readonly limits: BundleLimits,
  ) {}

  /** Checks a declared size before reading, so oversized entries are never buffered. */
  admit(name: string, size: number): string {
    const path = bundlePath(this.bundle, name);
    if (this.files.has(path)) throw new BundleError(this.bundle, `duplicate file ${path}`);
    if (this.files.size >= this.limits.maxFiles) throw new BundleError(this.bundle, `more than ${this.limits.maxFiles} files`);
    if (size > this.limits.maxFileBytes) {
      throw new BundleError(this.bundle, `file ${path} is ${size} bytes, over the limit of ${this.limits.maxFileBytes}`);
    }
    if (this.total + size > this.limits.maxTotalBytes) {
      throw new BundleError(this.bundle, `files total more than ${this.limits.maxTotalBytes} bytes`);
    }
    return path;
  }

  add(path: string, content: Buffer): void {
    this.total += content.length;
    this.files.set(path, content);
  }
}
