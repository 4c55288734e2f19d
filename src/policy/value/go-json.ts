import { needsExact, parseExact, RegoSet } from './exact.js';
import { RawNumber } from './raw-number.js';

/** JSON that OPA's decoder refuses; the message is the one Go's encoding/json gives. */
export class GoJsonError extends Error {
  override name = 'GoJsonError';
}

/**
 * Reads JSON as OPA's util.UnmarshalJSON does (encoding/json's Decoder with UseNumber): numbers keep their
 * text, the first value is decoded and then one more token is read, so a trailing `null` is accepted and
 * anything else after the value is an error; errors carry Go's messages, byte for byte ("invalid character
 * 'x' looking for beginning of value", "unexpected EOF", "EOF"). Well-formed single documents take
 * JSON.parse's native path.
 */
export function parseGoJson(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return decodeSlowly(text);
  }
  if (text.length > MAX_DEPTH * 2 && depthOver(text, MAX_DEPTH)) throw new GoJsonError('exceeded max depth');
  return needsExact(text) ? parseExact(text) : value;
}

// encoding/json refuses values nested deeper than this.
const MAX_DEPTH = 10000;

function decodeSlowly(text: string): unknown {
  const scan = new Scanner(text);
  scan.space();
  if (scan.done()) throw new GoJsonError('EOF');
  const start = scan.at;
  scan.value(' looking for beginning of value');
  const first = parseExact(text.slice(start, scan.at));
  // Decoder.Token(): one more token after the value.
  scan.space();
  if (scan.done()) return first;
  const c = text[scan.at] as string;
  if (c === '{' || c === '[') throw new GoJsonError(`error: invalid character '${c}' after top-level value`);
  if (c === '}' || c === ']' || c === ':' || c === ',') throw scan.error(' looking for beginning of value');
  const next = scan.at;
  scan.value(' looking for beginning of value');
  const token = text.slice(next, scan.at);
  if (token === 'null') return first;
  // fmt's %s of what Token returned: a string's contents, a json.Number's text, a bool's %!s(bool=...).
  const shown = token.startsWith('"') ? (JSON.parse(token) as string) : token === 'true' || token === 'false' ? `%!s(bool=${token})` : token;
  throw new GoJsonError(`error: invalid character '${shown}' after top-level value`);
}

/** True when arrays and objects nest deeper than max (brackets inside strings skipped). */
function depthOver(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** encoding/json's scanner, reduced to finding where a value ends or why it is not one. */
class Scanner {
  at = 0;
  private depth = 0;

  constructor(private readonly s: string) {}

  done(): boolean {
    return this.at >= this.s.length;
  }

  space(): void {
    for (;;) {
      const c = this.s.charCodeAt(this.at);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return;
      this.at++;
    }
  }

  /** The error for the character at `at` in this context, or unexpected EOF at the end. */
  error(context: string): GoJsonError {
    if (this.done()) return new GoJsonError('unexpected EOF');
    return new GoJsonError(`invalid character ${quoteChar(this.s.codePointAt(this.at) as number)}${context}`);
  }

  private expect(c: string, context: string): void {
    if (this.s[this.at] !== c) throw this.error(context);
    this.at++;
  }

  value(context: string): void {
    this.space();
    const c = this.s[this.at];
    switch (c) {
      case '{':
      case '[':
        if (++this.depth > MAX_DEPTH) throw new GoJsonError('exceeded max depth');
        this.at++;
        if (c === '{') this.object();
        else this.array();
        this.depth--;
        return;
      case '"':
        this.string();
        return;
      case 't':
        return this.literal('true');
      case 'f':
        return this.literal('false');
      case 'n':
        return this.literal('null');
      default:
        if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
        throw this.error(context);
    }
  }

  private object(): void {
    this.space();
    if (this.s[this.at] === '}') {
      this.at++;
      return;
    }
    for (;;) {
      this.space();
      if (this.s[this.at] !== '"') throw this.error(' looking for beginning of object key string');
      this.string();
      this.space();
      this.expect(':', ' after object key');
      this.value(' looking for beginning of value');
      this.space();
      if (this.s[this.at] === '}') {
        this.at++;
        return;
      }
      this.expect(',', ' after object key:value pair');
    }
  }

  private array(): void {
    this.space();
    if (this.s[this.at] === ']') {
      this.at++;
      return;
    }
    for (;;) {
      this.value(' looking for beginning of value');
      this.space();
      if (this.s[this.at] === ']') {
        this.at++;
        return;
      }
      this.expect(',', ' after array element');
    }
  }

  private string(): void {
    this.at++;
    for (;;) {
      if (this.done()) throw this.error('');
      const c = this.s.charCodeAt(this.at);
      if (c === 0x22) {
        this.at++;
        return;
      }
      if (c < 0x20) throw this.error(' in string literal');
      if (c === 0x5c) {
        this.at++;
        const e = this.s[this.at];
        if (e === 'u') {
          this.at++;
          for (let i = 0; i < 4; i++) {
            if (!/[0-9a-fA-F]/.test(this.s[this.at] ?? '')) throw this.error(' in \\u hexadecimal character escape');
            this.at++;
          }
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) throw this.error(' in string escape code');
      }
      this.at++;
    }
  }

  private literal(word: string): void {
    this.at++;
    for (let i = 1; i < word.length; i++) {
      if (this.s[this.at] !== word[i]) throw this.error(` in literal ${word} (expecting '${word[i]}')`);
      this.at++;
    }
  }

  private number(): void {
    if (this.s[this.at] === '-') {
      this.at++;
      if (!isDigit(this.s[this.at])) throw this.error(' in numeric literal');
    }
    if (this.s[this.at] === '0') this.at++;
    else while (isDigit(this.s[this.at])) this.at++;
    if (this.s[this.at] === '.') {
      this.at++;
      if (!isDigit(this.s[this.at])) throw this.error(' after decimal point in numeric literal');
      while (isDigit(this.s[this.at])) this.at++;
    }
    if (this.s[this.at] === 'e' || this.s[this.at] === 'E') {
      this.at++;
      if (this.s[this.at] === '+' || this.s[this.at] === '-') this.at++;
      if (!isDigit(this.s[this.at])) throw this.error(' in exponent of numeric literal');
      while (isDigit(this.s[this.at])) this.at++;
    }
  }
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

/**
 * encoding/json's quoteChar: the scanner works on bytes, so a character beyond ASCII shows as its first
 * UTF-8 byte, read as a Latin-1 rune and quoted like strconv.Quote would.
 */
function quoteChar(cp: number): string {
  const byte = cp < 0x80 ? cp : cp < 0x800 ? 0xc0 | (cp >> 6) : cp < 0x10000 ? 0xe0 | (cp >> 12) : 0xf0 | (cp >> 18);
  if (byte === 0x27) return `'\\''`;
  if (byte === 0x22) return `'"'`;
  return `'${goQuoteRune(byte)}'`;
}

const NAMED_ESCAPES: Record<number, string> = { 7: '\\a', 8: '\\b', 12: '\\f', 10: '\\n', 13: '\\r', 9: '\\t', 11: '\\v', 0x5c: '\\\\' };

/** strconv.Quote's spelling of one rune below U+0100 (without the quotes). */
function goQuoteRune(r: number): string {
  const named = NAMED_ESCAPES[r];
  if (named) return named;
  if (r < 0x20 || r === 0x7f) return `\\x${r.toString(16).padStart(2, '0')}`;
  // Latin-1 runes Go does not print: the C1 controls, NBSP and the soft hyphen.
  if ((r >= 0x80 && r <= 0xa0) || r === 0xad) return `\\u${r.toString(16).padStart(4, '0')}`;
  return String.fromCharCode(r);
}

/**
 * Go's json.Marshal of a Rego value turned into JSON (ast.JSON): object keys sorted, no spaces, numbers as
 * their text, sets as arrays, and Go's escaping: <, >, & and U+2028/U+2029 as \u escapes, control
 * characters as \b \f \n \r \t or \u00XX.
 */
export function goMarshal(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return JSON.stringify(value);
    case 'string':
      return goQuote(value);
    case 'object': {
      if (value instanceof RawNumber) return value.text;
      if (value instanceof RegoSet) return goMarshal(value.items);
      if (Array.isArray(value)) return `[${value.map(goMarshal).join(',')}]`;
      const keys = Object.keys(value).sort(compareUtf8);
      return `{${keys.map((k) => `${goQuote(k)}:${goMarshal((value as Record<string, unknown>)[k])}`).join(',')}}`;
    }
    default:
      return 'null';
  }
}

/** Go sorts map keys as byte strings: UTF-8 order, which differs from UTF-16 order beyond the BMP. */
export function compareUtf8(a: string, b: string): number {
  return a === b ? 0 : Buffer.compare(Buffer.from(a), Buffer.from(b));
}

export function goQuote(s: string): string {
  return `"${s.replace(GO_ESCAPED, (c) => GO_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}"`;
}

// eslint-disable-next-line no-control-regex
const GO_ESCAPED = /[\u0000-\u001f"\\<>&\u2028\u2029]/g;
const GO_ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
