import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';
import { BundleError } from './errors.js';
import { FileCollector, type BundleFiles, type BundleLimits } from './files.js';

/**
 * Reads an OPA bundle archive (.tar.gz). Every limit is enforced while streaming: the gunzip output is
 * counted as it is produced, so a decompression bomb stops at maxTotalBytes instead of filling memory.
 */
export async function readArchive(bundle: string, archive: Buffer, limits: BundleLimits): Promise<BundleFiles> {
  if (archive.length > limits.maxArchiveBytes) {
    throw new BundleError(bundle, `archive is ${archive.length} bytes, over the limit of ${limits.maxArchiveBytes}`);
  }
  const collector = new FileCollector(bundle, limits);
  const gunzip = createGunzip();
  let inflated = 0;
  gunzip.on('data', (chunk: Buffer) => {
    inflated += chunk.length;
    // The tar stream adds headers and padding, so allow some slack over the file total before calling it a bomb.
    if (inflated > limits.maxTotalBytes + 1024 * 1024) {
      gunzip.destroy(new BundleError(bundle, `archive inflates to more than ${limits.maxTotalBytes} bytes`));
    }
  });
  const tar = extract();
  tar.on('entry', (header, stream, next) => {
    // Destroying the extractor also destroys the entry stream; its error is already reported through the pipeline.
    stream.on('error', () => undefined);
    const done = (err?: unknown) => (err ? tar.destroy(err as Error) : next());
    if (header.type === 'directory') {
      stream.resume();
      stream.on('end', () => done());
      return;
    }
    if (header.type !== 'file') {
      stream.resume();
      done(new BundleError(bundle, `entry ${JSON.stringify(header.name)} is a ${header.type}; only regular files are allowed`));
      return;
    }
    let path: string;
    try {
      path = collector.admit(header.name, header.size ?? 0);
    } catch (err) {
      stream.resume();
      done(err);
      return;
    }
    const chunks: Buffer[] = [];
    stream.on('data', (c: unknown) => chunks.push(c as Buffer));
    stream.on('end', () => {
      collector.add(path, Buffer.concat(chunks));
      done();
    });
  });
  try {
    await pipeline(Readable.from([archive]), gunzip, tar);
  } catch (err) {
    if (err instanceof BundleError) throw err;
    throw new BundleError(bundle, `not a valid .tar.gz archive: ${(err as Error).message}`, { cause: err });
  }
  return collector.files;
}
