/** A URL part Go's net/url refuses; the message is Go's. */
export class GoUrlError extends Error {
  override name = 'GoUrlError';
}

/** url.QueryUnescape. */
export function queryUnescape(s: string): string {
  return unescape(s, true);
}

/** Go's url.ParseQuery: every pair is read; the first error (if any) is thrown after, as the plugin refuses the request then. */
export function parseQuery(raw: string): Record<string, string[]> {
  const out: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  let error: string | undefined;
  for (const pair of raw.split('&')) {
    // Go records a semicolon over any earlier error, and an escape error only when there is none yet.
    if (pair.includes(';')) {
      error = 'invalid semicolon separator in query';
      continue;
    }
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    let key: string;
    let value: string;
    try {
      key = unescape(eq < 0 ? pair : pair.slice(0, eq), true);
      value = unescape(eq < 0 ? '' : pair.slice(eq + 1), true);
    } catch (err) {
      error ??= (err as Error).message;
      continue;
    }
    (out[key] ??= []).push(value);
  }
  if (error !== undefined) throw new GoUrlError(error);
  // A plain object from here on, like every other part of the input.
  return { ...out };
}

/** Go's url unescape: a malformed escape fails the whole string; bytes are read as UTF-8. */
export function unescape(s: string, query: boolean): string {
  if (!s.includes('%') && !(query && s.includes('+'))) return s;
  const parts: Buffer[] = [];
  let run = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 0x25 && !(c === 0x2b && query)) continue;
    parts.push(Buffer.from(s.slice(run, i)));
    if (c === 0x2b) {
      parts.push(SPACE);
      run = i + 1;
      continue;
    }
    const h = s.slice(i + 1, i + 3);
    if (!/^[0-9a-fA-F]{2}$/.test(h)) throw new GoUrlError(`invalid URL escape ${goQuote(Buffer.from(s).subarray(Buffer.byteLength(s.slice(0, i))).subarray(0, 3))}`);
    parts.push(Buffer.of(parseInt(h, 16)));
    i += 2;
    run = i + 1;
  }
  parts.push(Buffer.from(s.slice(run)));
  return Buffer.concat(parts).toString('utf8');
}

const SPACE = Buffer.of(0x20);

/** strconv.Quote of a byte string (as Go quotes an EscapeError). */
function goQuote(b: Buffer): string {
  let out = '"';
  const text = b.toString('utf8');
  const valid = Buffer.from(text).equals(b);
  if (valid) {
    for (const ch of text) {
      const c = ch.codePointAt(0) as number;
      if (ch === '"' || ch === '\\') out += `\\${ch}`;
      else if (c < 0x20 || c === 0x7f) out += c === 10 ? '\\n' : c === 13 ? '\\r' : c === 9 ? '\\t' : `\\x${c.toString(16).padStart(2, '0')}`;
      else out += ch;
    }
  } else {
    // Bytes that are not UTF-8 (an escape cut inside a multi-byte character) are written as \x escapes.
    for (const byte of b) out += byte >= 0x20 && byte < 0x7f ? (byte === 0x22 || byte === 0x5c ? `\\${String.fromCharCode(byte)}` : String.fromCharCode(byte)) : `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return `${out}"`;
}
