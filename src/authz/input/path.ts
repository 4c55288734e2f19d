/**
 * parsed_path and parsed_query as opa-envoy-plugin computes them with Go's url.Parse and URL.Query(), so a
 * policy sees the same segments and parameters here as there: the path unescaped and split on "/" after
 * trimming leading slashes, parameters unescaped ("+" is a space) with every value kept in order.
 */
export interface ParsedPath {
  parsed_path: string[];
  parsed_query: Record<string, string[]>;
}

/** A path Go's url.Parse refuses; opa-envoy-plugin answers such a request with 400. */
export class PathError extends Error {
  override name = 'PathError';
}

export function parsePath(raw: string): ParsedPath {
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) throw new PathError('invalid control character in URL');
  }
  let rest = raw;
  const hash = rest.indexOf('#');
  if (hash >= 0) rest = rest.slice(0, hash);
  let rawQuery = '';
  const q = rest.indexOf('?');
  if (q >= 0) {
    rawQuery = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  const scheme = /^[a-zA-Z][a-zA-Z0-9+.-]*:/.exec(rest);
  if (scheme) rest = rest.slice(scheme[0].length);
  else if (rest.startsWith(':')) throw new PathError('missing protocol scheme');
  // "//authority/path" (and "scheme://authority/path") names a host before the path.
  if (rest.startsWith('//')) {
    const slash = rest.indexOf('/', 2);
    rest = slash < 0 ? '' : rest.slice(slash);
  }
  const path = unescape(rest, false);
  if (path === undefined) throw new PathError('invalid URL escape');
  return { parsed_path: trimLeftSlashes(path).split('/'), parsed_query: parseQuery(rawQuery) };
}

/** URL.Query(): pairs Go cannot read (bad escapes, semicolons) are dropped, the rest kept. */
function parseQuery(raw: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  readQuery(raw, out);
  return out;
}

/** url.ParseQuery: like parseQuery, but says whether any pair was unreadable (opa-envoy-plugin then refuses a form body). */
export function parseQueryStrict(raw: string): Record<string, string[]> | undefined {
  const out: Record<string, string[]> = {};
  return readQuery(raw, out) ? out : undefined;
}

function readQuery(raw: string, out: Record<string, string[]>): boolean {
  let ok = true;
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    if (pair.includes(';')) {
      ok = false;
      continue;
    }
    const eq = pair.indexOf('=');
    const key = unescape(eq < 0 ? pair : pair.slice(0, eq), true);
    const value = unescape(eq < 0 ? '' : pair.slice(eq + 1), true);
    if (key === undefined || value === undefined) {
      ok = false;
      continue;
    }
    (out[key] ??= []).push(value);
  }
  return ok;
}

function trimLeftSlashes(s: string): string {
  let i = 0;
  while (s.charCodeAt(i) === 0x2f) i++;
  return s.slice(i);
}

/** Percent-decoding as Go's url.unescape: a malformed escape fails the whole string; bytes are read as UTF-8. */
function unescape(s: string, query: boolean): string | undefined {
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
    if (!/^[0-9a-fA-F]{2}$/.test(h)) return undefined;
    parts.push(Buffer.of(parseInt(h, 16)));
    i += 2;
    run = i + 1;
  }
  parts.push(Buffer.from(s.slice(run)));
  return Buffer.concat(parts).toString('utf8');
}

const SPACE = Buffer.of(0x20);
