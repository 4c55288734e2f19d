import { lstat, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { BundleError } from './errors.js';
import { FileCollector, type BundleFiles, type BundleLimits } from './files.js';

/** Entries a git checkout carries that are never part of a bundle. */
const SKIPPED = new Set(['.git', '.github', '.gitignore']);

/**
 * Reads a bundle laid out as a directory tree. The root is resolved first, so a git-sync symlink that is
 * swapped while we read still gives one consistent revision; links inside the tree may not leave it.
 */
export async function readDirectory(bundle: string, dir: string, limits: BundleLimits): Promise<BundleFiles> {
  let root: string;
  try {
    root = await realpath(dir);
  } catch (err) {
    throw new BundleError(bundle, `cannot read directory ${dir}: ${(err as Error).message}`);
  }
  const collector = new FileCollector(bundle, limits);
  await walk(bundle, root, root, collector);
  return collector.files;
}

async function walk(bundle: string, root: string, dir: string, collector: FileCollector): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const entry of entries) {
    if (SKIPPED.has(entry.name)) continue;
    let path = join(dir, entry.name);
    if (entry.isSymbolicLink()) {
      const target = await realpath(path).catch(() => undefined);
      if (!target || (target !== root && !target.startsWith(root + sep))) {
        throw new BundleError(bundle, `${relative(root, path)} links outside the bundle directory`);
      }
      path = target;
    }
    const info = await stat(path);
    if (info.isDirectory()) {
      await walk(bundle, root, path, collector);
    } else if (info.isFile()) {
      const name = relative(root, join(dir, entry.name)).split(sep).join('/');
      const admitted = collector.admit(name, info.size);
      collector.add(admitted, await readFile(path));
    }
  }
}

/** A cheap summary of a path's current content (its resolved target and every file's size and mtime). */
export async function fingerprint(path: string): Promise<string> {
  try {
    const target = await realpath(path);
    const info = await lstat(target);
    if (!info.isDirectory()) return `${target}:${info.size}:${info.mtimeMs}`;
    const parts = [target];
    const visit = async (dir: string): Promise<void> => {
      const entries = await readdir(dir, { withFileTypes: true });
      for (const e of entries) {
        if (SKIPPED.has(e.name)) continue;
        const p = join(dir, e.name);
        const s = await stat(p).catch(() => undefined);
        if (!s) continue;
        if (s.isDirectory()) await visit(p);
        else parts.push(`${relative(target, p)}:${s.size}:${s.mtimeMs}`);
      }
    };
    await visit(target);
    return parts.sort().join('\n');
  } catch (err) {
    return `missing:${(err as Error).message}`;
  }
}
