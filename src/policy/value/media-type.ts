/** A Content-Type or Content-Disposition Go's mime package refuses; the message is Go's. */
export class MediaTypeError extends Error {
  override name = 'MediaTypeError';
}

const TSPECIALS = '()<>@,;:\\"/[]?=';

function isTokenChar(c: string): boolean {
  const code = c.charCodeAt(0);
  return code > 0x20 && code < 0x7f && !TSPECIALS.includes(c);
}

function consumeToken(v: string): [string, string] {
  let i = 0;
  while (i < v.length && isTokenChar(v[i] as string)) i++;
  return [v.slice(0, i), v.slice(i)];
}

/** A token, or a quoted string with backslash escapes of tspecials; ["", v] when neither is there. */
function consumeValue(v: string): [string, string] {
  if (v === '') return ['', v];
  if (v[0] !== '"') return consumeToken(v);
  let out = '';
  for (let i = 1; i < v.length; i++) {
    const r = v[i] as string;
    if (r === '"') return [out, v.slice(i + 1)];
    if (r === '\\' && i + 1 < v.length && TSPECIALS.includes(v[i + 1] as string)) {
      out += v[i + 1];
      i++;
      continue;
    }
    if (r === '\r' || r === '\n') return ['', v];
    out += r;
  }
  return ['', v];
}

const trimSpaceLeft = (s: string) => s.replace(/^\s+/u, '');

function consumeParam(v: string): [string, string, string] {
  let rest = trimSpaceLeft(v);
  if (!rest.startsWith(';')) return ['', '', v];
  rest = trimSpaceLeft(rest.slice(1));
  let param: string;
  [param, rest] = consumeToken(rest);
  param = param.toLowerCase();
  if (param === '') return ['', '', v];
  rest = trimSpaceLeft(rest);
  if (!rest.startsWith('=')) return ['', '', v];
  rest = trimSpaceLeft(rest.slice(1));
  const [value, after] = consumeValue(rest);
  if (value === '' && after === rest) return ['', '', v];
  return [param, value, after];
}

/**
 * Go's mime.ParseMediaType: the lower-cased type/subtype and its parameters (names lower-cased, quoted
 * values unquoted), with Go's errors. RFC 2231 continuations (name*0=...) are kept under their raw names.
 */
export function parseMediaType(v: string): { type: string; params: Record<string, string> } {
  const semi = v.indexOf(';');
  const base = semi < 0 ? v : v.slice(0, semi);
  const type = base.toLowerCase().trim();
  const [typ, rest] = consumeToken(type);
  if (typ === '') throw new MediaTypeError('mime: no media type');
  if (rest !== '') {
    if (!rest.startsWith('/')) throw new MediaTypeError('mime: expected slash after first token');
    const [sub, after] = consumeToken(rest.slice(1));
    if (sub === '') throw new MediaTypeError('mime: expected token after slash');
    if (after !== '') throw new MediaTypeError('mime: unexpected content after media subtype');
  }
  const params = new Map<string, string>();
  let s = v.slice(base.length);
  while (s.length > 0) {
    s = trimSpaceLeft(s);
    if (s.length === 0) break;
    const [key, value, rest2] = consumeParam(s);
    if (key === '') {
      if (rest2.trim() === ';') break;
      throw new MediaTypeError('mime: invalid media parameter');
    }
    if (params.has(key) && params.get(key) !== value) throw new MediaTypeError('mime: duplicate parameter name');
    params.set(key, value);
    s = rest2;
  }
  return { type, params: Object.fromEntries(params) };
}
