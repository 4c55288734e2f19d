/**
 * The token of a request: `Authorization: Bearer <token>` (scheme case-insensitive, RFC 6750), or the
 * whole value of another configured header. Returns undefined when there is none. Parsed by hand: a
 * regular expression backtracks over the whole token on every request.
 */
export function extractToken(headers: Record<string, string> | undefined, header: string): string | undefined {
  const raw = headers?.[header];
  if (raw === undefined) return undefined;
  const value = raw.trim();
  if (header !== 'authorization') return value || undefined;
  if (value.length < 7 || value.slice(0, 6).toLowerCase() !== 'bearer' || (value[6] !== ' ' && value[6] !== '\t')) return undefined;
  return value.slice(7).trim() || undefined;
}
