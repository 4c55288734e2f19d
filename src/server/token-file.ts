import { readFile } from 'node:fs/promises';

/** A bearer token kept in a file; service account tokens are rotated on disk, so it is read again for every request. */
export function tokenFile(file: string): () => Promise<string> {
  return async () => (await readFile(file, 'utf8')).trim();
}
