import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The bearer token of the admin API: PORTCULLIS_ADMIN_TOKEN, else admin.tokenFile, else (standalone only) a
 * random token written once to <dir>/admin-token, readable by the owner only. Never logged.
 */
export async function resolveAdminToken(options: { tokenFile?: string | undefined; standaloneDir?: string | undefined }): Promise<string | undefined> {
  const fromEnv = process.env.PORTCULLIS_ADMIN_TOKEN?.trim();
  if (fromEnv) return fromEnv;
  if (options.tokenFile) return (await readFile(options.tokenFile, 'utf8')).trim();
  if (!options.standaloneDir) return undefined;
  const file = join(options.standaloneDir, 'admin-token');
  const existing = await readFile(file, 'utf8').catch(() => undefined);
  if (existing?.trim()) return existing.trim();
  const token = randomBytes(24).toString('base64url');
  await mkdir(options.standaloneDir, { recursive: true });
  await writeFile(file, `${token}\n`, { mode: 0o600 });
  return token;
}

/** Compares in constant time so the token cannot be guessed byte by byte from response timings. */
export function tokenMatches(expected: string | undefined, header: string | undefined): boolean {
  if (!expected || !header?.startsWith('Bearer ')) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(expected), digest(header.slice(7).trim()));
}
