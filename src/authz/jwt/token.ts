/**
 * The token of a request: `Authorization: Bearer <token>` (scheme case-insensitive, RFC 6750), or the
 * whole value of another configured header. Returns undefined when there is none.
 */
export function extractToken(headers: Record<string, string> | undefined, header: string): string | undefined {
  const raw = headers?.[header];
  if (raw === undefined) return undefined;
  if (header !== 'authorization') return raw.trim() || undefined;
  const m = /^\s*bearer\s+(.+?)\s*$/i.exec(raw);
  return m ? m[1] : undefined;
}
