import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { createGzip } from 'node:zlib';
import { pack } from 'tar-stream';
import { readArchive } from '../../src/policy/bundle/archive.js';
import { DEFAULT_LIMITS } from '../../src/policy/bundle/files.js';
import { OPA } from './paths.js';

const run = promisify(execFile);

export interface BuildOptions {
  entrypoints: string[];
  revision?: string;
  roots?: string[];
  signingKey?: string;
  signingAlg?: string;
  keyId?: string;
}

/** Builds a real WASM bundle with the pinned OPA from the given source files (path → content). */
export async function buildBundle(sources: Record<string, string>, options: BuildOptions): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-bundle-'));
  try {
    const src = join(dir, 'src');
    for (const [path, content] of Object.entries(sources)) {
      await mkdir(dirname(join(src, path)), { recursive: true });
      await writeFile(join(src, path), content);
    }
    await writeFile(join(src, '.manifest'), JSON.stringify({ roots: options.roots ?? [''] }));
    const out = join(dir, 'bundle.tar.gz');
    const args = ['build', '-b', '-t', 'wasm', '-r', options.revision ?? 'test', '-o', out];
    for (const e of options.entrypoints) args.push('-e', e);
    if (options.signingKey) {
      const key = join(dir, 'key.pem');
      await writeFile(key, options.signingKey);
      args.push('--signing-key', key, '--signing-alg', options.signingAlg ?? 'RS256');
      if (options.keyId) {
        await writeFile(join(dir, 'claims.json'), JSON.stringify({ keyid: options.keyId }));
        args.push('--claims-file', join(dir, 'claims.json'));
      }
    }
    args.push(src);
    await run(OPA, args);
    return await readFile(out);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface TarEntry {
  name: string;
  content?: Buffer | string;
  type?: 'file' | 'symlink' | 'directory';
  linkname?: string;
}

/** Writes a .tar.gz by hand, for archives OPA would never produce (traversal, links, bombs). */
export async function tarGz(entries: TarEntry[]): Promise<Buffer> {
  const p = pack();
  const gz = createGzip();
  const chunks: Buffer[] = [];
  gz.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((resolve, reject) => {
    gz.on('end', resolve);
    gz.on('error', reject);
  });
  p.pipe(gz);
  for (const e of entries) {
    const content = typeof e.content === 'string' ? Buffer.from(e.content) : (e.content ?? Buffer.alloc(0));
    await new Promise<void>((resolve, reject) =>
      p.entry({ name: e.name, type: e.type ?? 'file', linkname: e.linkname, size: content.length }, content, (err) => (err ? reject(err) : resolve())),
    );
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** Reads a .tar.gz into path → content, e.g. to tamper with one file and pack it again. */
export async function untarGz(archive: Buffer): Promise<TarEntry[]> {
  const files = await readArchive('test', archive, DEFAULT_LIMITS);
  return [...files].map(([name, content]) => ({ name: `/${name}`, content }));
}
