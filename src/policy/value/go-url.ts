import { parseIP } from './go-ip.js';

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

// -- url.Parse, for OPA's uri.parse and uri.is_valid: the parts of a URL reference as Go's net/url reads
// them (Go 1.26, its default settings: strict colons in http(s) hosts).

/** The parts of a parsed URL that OPA reads. */
export interface GoUrl {
  scheme: string;
  opaque: string;
  host: string;
  path: string;
  /** Set only when the path's escaping is not the one Go would choose. */
  rawPath: string;
  rawQuery: string;
  fragment: string;
}

type Mode = 'path' | 'host' | 'zone' | 'userPassword' | 'fragment';

/** net/url's shouldEscape, for the modes url.Parse uses. */
function shouldEscape(c: number, mode: Mode): boolean {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z0-9]/.test(ch)) return false;
  if ((mode === 'host' || mode === 'zone') && `!$&'()*+,;=:[]<>"`.includes(ch)) return false;
  if ('-_.~'.includes(ch)) return false;
  if ('$&+,/:;=?@'.includes(ch)) {
    if (mode === 'path') return ch === '?';
    if (mode === 'userPassword') return '@/?:'.includes(ch);
    if (mode === 'fragment') return false;
  }
  if (mode === 'fragment' && '!()*'.includes(ch)) return false;
  return true;
}

const isHex = (c: string | undefined) => c !== undefined && /^[0-9a-fA-F]$/.test(c);

/** net/url's unescape for a URL part: escapes checked for the part, bytes read as UTF-8. */
function unescapePart(s: string, mode: Mode): string {
  let escapes = 0;
  for (let i = 0; i < s.length; ) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      escapes++;
      if (!isHex(s[i + 1]) || !isHex(s[i + 2])) throw new GoUrlError(`invalid URL escape ${JSON.stringify(s.slice(i, i + 3))}`);
      const v = parseInt(s.slice(i + 1, i + 3), 16);
      if (mode === 'host' && v < 0x80 && s.slice(i, i + 3) !== '%25') throw new GoUrlError(`invalid URL escape ${JSON.stringify(s.slice(i, i + 3))}`);
      if (mode === 'zone' && s.slice(i, i + 3) !== '%25' && v !== 0x20 && shouldEscape(v, 'host')) throw new GoUrlError(`invalid URL escape ${JSON.stringify(s.slice(i, i + 3))}`);
      i += 3;
    } else {
      if ((mode === 'host' || mode === 'zone') && c < 0x80 && shouldEscape(c, mode)) throw new GoUrlError(`invalid character ${JSON.stringify(s[i])} in host name`);
      i++;
    }
  }
  if (escapes === 0) return s;
  const parts: Buffer[] = [];
  let run = 0;
  for (let i = s.indexOf('%'); i >= 0; i = s.indexOf('%', run)) {
    parts.push(Buffer.from(s.slice(run, i)), Buffer.of(parseInt(s.slice(i + 1, i + 3), 16)));
    run = i + 3;
  }
  parts.push(Buffer.from(s.slice(run)));
  return Buffer.concat(parts).toString('utf8');
}

/** net/url's escape in path mode. */
function escapePath(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s)) out += shouldEscape(byte, 'path') ? `%${byte.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(byte);
  return out;
}

function getScheme(raw: string): [string, string] {
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as string;
    if (/[A-Za-z]/.test(c)) continue;
    if (/[0-9+\-.]/.test(c)) {
      if (i === 0) return ['', raw];
      continue;
    }
    if (c === ':') {
      if (i === 0) throw new GoUrlError('missing protocol scheme');
      return [raw.slice(0, i), raw.slice(i + 1)];
    }
    return ['', raw];
  }
  return ['', raw];
}

function validOptionalPort(port: string): boolean {
  return port === '' || /^:[0-9]*$/.test(port);
}

function parseHost(scheme: string, host: string): string {
  const open = host.lastIndexOf('[');
  if (open > 0) throw new GoUrlError('invalid IP-literal');
  if (open === 0) {
    const close = host.lastIndexOf(']');
    if (close < 0) throw new GoUrlError("missing ']' in host");
    const colonPort = host.slice(close + 1);
    if (!validOptionalPort(colonPort)) throw new GoUrlError(`invalid port ${JSON.stringify(colonPort)} after host`);
    const port = unescapePart(colonPort, 'host');
    const name = host.slice(1, close);
    const zone = name.indexOf('%25');
    const unescaped = zone >= 0 ? unescapePart(name.slice(0, zone), 'host') + unescapePart(name.slice(zone), 'zone') : unescapePart(name, 'host');
    // netip.ParseAddr: an IPv6 address (a zone allowed), not an IPv4 one.
    const percent = unescaped.indexOf('%');
    const address = percent >= 0 ? unescaped.slice(0, percent) : unescaped;
    if ((percent >= 0 && (percent === unescaped.length - 1 || !address.includes(':'))) || !parseAddrIs6(address)) throw new GoUrlError('invalid host');
    return `[${unescaped}]${port}`;
  }
  let i = host.indexOf(':');
  if (i >= 0) {
    const last = host.lastIndexOf(':');
    // Colons in the host are allowed (lists of hosts) except for http and https.
    if (last !== i && scheme !== 'http' && scheme !== 'https') i = last;
    if (!validOptionalPort(host.slice(i))) throw new GoUrlError(`invalid port ${JSON.stringify(host.slice(i))} after host`);
  }
  return unescapePart(host, 'host');
}

/** Whether netip.ParseAddr reads the text (without its zone) as an IPv6 address: a colon comes before any dot. */
function parseAddrIs6(s: string): boolean {
  for (const c of s) {
    if (c === '.') return false;
    if (c === ':') return parseIP(s) !== undefined;
    if (c === '%') return false;
  }
  return false;
}

function validUserinfo(s: string): boolean {
  return /^[A-Za-z0-9\-._:~!$&'()*+,;=%@]*$/.test(s);
}

/** url.Parse: throws GoUrlError where Go returns an error. */
export function parseUrl(rawUrl: string): GoUrl {
  const hash = rawUrl.indexOf('#');
  const u = hash < 0 ? rawUrl : rawUrl.slice(0, hash);
  const frag = hash < 0 ? '' : rawUrl.slice(hash + 1);
  const url: GoUrl = { scheme: '', opaque: '', host: '', path: '', rawPath: '', rawQuery: '', fragment: '' };
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(u)) throw new GoUrlError('net/url: invalid control character in URL');
  if (u === '*') url.path = '*';
  else parseReference(u, url);
  if (frag !== '') url.fragment = unescapePart(frag, 'fragment');
  return url;
}

function parseReference(raw: string, url: GoUrl): void {
  const [scheme, afterScheme] = getScheme(raw);
  let rest = afterScheme;
  url.scheme = scheme.toLowerCase();
  if (rest.endsWith('?') && rest.indexOf('?') === rest.length - 1) rest = rest.slice(0, -1);
  else {
    const q = rest.indexOf('?');
    if (q >= 0) {
      url.rawQuery = rest.slice(q + 1);
      rest = rest.slice(0, q);
    }
  }
  if (!rest.startsWith('/')) {
    if (url.scheme !== '') {
      url.opaque = rest;
      return;
    }
    if ((rest.split('/')[0] as string).includes(':')) throw new GoUrlError('first path segment in URL cannot contain colon');
  }
  if ((url.scheme !== '' || !rest.startsWith('///')) && rest.startsWith('//')) {
    let authority = rest.slice(2);
    rest = '';
    const slash = authority.indexOf('/');
    if (slash >= 0) {
      rest = authority.slice(slash);
      authority = authority.slice(0, slash);
    }
    const at = authority.lastIndexOf('@');
    url.host = parseHost(url.scheme, at < 0 ? authority : authority.slice(at + 1));
    if (at >= 0) {
      const userinfo = authority.slice(0, at);
      if (!validUserinfo(userinfo)) throw new GoUrlError('net/url: invalid userinfo');
      const colon = userinfo.indexOf(':');
      unescapePart(colon < 0 ? userinfo : userinfo.slice(0, colon), 'userPassword');
      if (colon >= 0) unescapePart(userinfo.slice(colon + 1), 'userPassword');
    }
  }
  url.path = unescapePart(rest, 'path');
  url.rawPath = escapePath(url.path) === rest ? '' : rest;
}

/** url.URL.Hostname and Port: the host split at a valid ":port", brackets removed. */
export function splitHostPort(hostPort: string): [string, string] {
  let host = hostPort;
  let port = '';
  const colon = host.lastIndexOf(':');
  if (colon >= 0 && validOptionalPort(host.slice(colon))) {
    port = host.slice(colon + 1);
    host = host.slice(0, colon);
  }
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return [host, port];
}

/** url.URL.EscapedPath: the path as written when that spelling is a valid encoding of it, else Go's escaping. */
export function escapedPath(url: GoUrl): string {
  if (url.rawPath !== '' && /^[A-Za-z0-9\-._~!$&'()*+,;=:@[\]%/]*$/.test(url.rawPath)) {
    try {
      if (unescapePart(url.rawPath, 'path') === url.path) return url.rawPath;
    } catch {
      // Go falls through to escaping the path.
    }
  }
  if (url.path === '*') return '*';
  return escapePath(url.path);
}
