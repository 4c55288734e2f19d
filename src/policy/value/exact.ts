import { numberFromText, RawNumber, stringify } from './raw-number.js';

/** A Rego set, as the policy's WebAssembly writes it (`{1, 2}`, `set()`): kept apart from arrays. */
export class RegoSet {
  constructor(readonly items: unknown[]) {}

  /** JSON has no sets: formatRego's fast path (JSON.stringify) gives way to the slow one. */
  toJSON(): never {
    throw SET_IN_JSON;
  }
}

const SET_IN_JSON = new Error('a set has no JSON form');

/**
 * A value in OPA's value notation (as opa_value_dump writes it) read back: JSON.parse where the text is
 * plain JSON with exact numbers (most builtin arguments), the exact reader otherwise (sets, inexact
 * numbers, non-string keys).
 */
export function parseRegoValue(text: string): unknown {
  if (!needsExact(text) && !text.includes('set()')) {
    try {
      return JSON.parse(text);
    } catch {
      // A set ({1, 2}) or a non-string key is not JSON.
    }
  }
  return parseExact(text, true);
}

/**
 * Reads JSON text already known to be well formed (JSON.parse accepted it, or the policy's WebAssembly
 * wrote it) without losing anything a double or JSON.parse would: numbers a double cannot hold stay
 * RawNumbers, lone surrogates become U+FFFD as Go's decoder makes them, duplicate keys keep the last
 * value. With `rego`, the value notation of opa_value_dump is read too: sets and non-string object keys
 * (written as their JSON text, as opa_json_dump writes them).
 */
export function parseExact(text: string, rego = false): unknown {
  const reader = new Reader(text, rego);
  const value = reader.value();
  reader.space();
  if (reader.at < text.length) throw new SyntaxError(`unexpected text at ${reader.at}`);
  return value;
}

/** Whether text may hold what JSON.parse would change: inexact numbers, lone surrogate escapes. */
export function needsExact(text: string): boolean {
  return INEXACT.test(text);
}

// A digit before a fraction or exponent, 16+ digits in a row, a negative zero, a surrogate escape. Also
// matches inside strings ("10.0.0.1"), which only costs the slower exact reading.
const INEXACT = /[0-9][.eE]|[0-9]{16}|-0|\\u[dD][89abAB]/;

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

class Reader {
  at = 0;

  constructor(
    private readonly s: string,
    private readonly rego: boolean,
  ) {}

  space(): void {
    while (WS.has(this.s.charCodeAt(this.at))) this.at++;
  }

  value(): unknown {
    this.space();
    const c = this.s[this.at];
    switch (c) {
      case '{':
        return this.objectOrSet();
      case '[': {
        this.at++;
        const out: unknown[] = [];
        this.space();
        if (this.s[this.at] === ']') {
          this.at++;
          return out;
        }
        for (;;) {
          out.push(this.value());
          this.space();
          if (this.s[this.at++] === ']') return out;
        }
      }
      case '"':
        return this.string();
      case 't':
        this.at += 4;
        return true;
      case 'f':
        this.at += 5;
        return false;
      case 'n':
        this.at += 4;
        return null;
      case 's':
        // set(): the empty set of opa_value_dump.
        if (this.rego && this.s.startsWith('set()', this.at)) {
          this.at += 5;
          return new RegoSet([]);
        }
        throw new SyntaxError(`unexpected ${c} at ${this.at}`);
      default:
        return this.number();
    }
  }

  private objectOrSet(): unknown {
    this.at++;
    this.space();
    if (this.s[this.at] === '}') {
      this.at++;
      return {};
    }
    const first = this.value();
    this.space();
    if (this.s[this.at] !== ':') {
      const items = [first];
      while (this.s[this.at++] === ',') {
        items.push(this.value());
        this.space();
      }
      return new RegoSet(items);
    }
    const out: Record<string, unknown> = {};
    let key = first;
    for (;;) {
      this.at++; // ':'
      put(out, keyText(key), this.value());
      this.space();
      if (this.s[this.at++] === '}') return out;
      key = this.value();
      this.space();
    }
  }

  private string(): string {
    const start = this.at;
    let escaped = false;
    this.at++;
    for (;;) {
      const c = this.s.charCodeAt(this.at++);
      if (c === 0x22) break;
      if (c === 0x5c) {
        escaped = true;
        this.at++;
      }
      if (Number.isNaN(c)) throw new SyntaxError('unterminated string');
    }
    const raw = this.s.slice(start + 1, this.at - 1);
    return escaped ? (JSON.parse(this.s.slice(start, this.at)) as string).toWellFormed() : raw;
  }

  private number(): number | RawNumber {
    const start = this.at;
    while (this.at < this.s.length && NUMBER_CHAR.has(this.s.charCodeAt(this.at))) this.at++;
    if (this.at === start) throw new SyntaxError(`unexpected ${this.s[this.at]} at ${this.at}`);
    return numberFromText(this.s.slice(start, this.at));
  }
}

const NUMBER_CHAR = new Set([...'0123456789+-.eE'].map((c) => c.charCodeAt(0)));

function keyText(key: unknown): string {
  if (typeof key === 'string') return key;
  return JSON.stringify(key instanceof RegoSet ? key.items : key);
}

/** Sets a key as JSON.parse does: "__proto__" becomes an own property, not the prototype. */
export function put(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

/**
 * Writes a value in the notation opa_value_parse reads: JSON, plus sets as `{a, b}` / `set()`, and
 * RawNumbers as the numbers they are. Numbers a double cannot name (NaN, Infinity) have no notation.
 */
export function formatRego(value: unknown): string {
  try {
    const json = stringify(value);
    // JSON.stringify writes NaN and Infinity as null; only the slow path refuses them.
    if (json !== undefined && !json.includes('null')) return json;
  } catch (err) {
    if (err !== SET_IN_JSON) throw err;
  }
  return formatSlowly(value);
}

function formatSlowly(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new RangeError(`${value} is not a JSON number`);
      return JSON.stringify(value);
    case 'bigint':
      return value.toString();
    case 'object': {
      if (value instanceof RawNumber) return value.text;
      if (value instanceof RegoSet) return value.items.length === 0 ? 'set()' : `{${value.items.map(formatSlowly).join(',')}}`;
      if (Array.isArray(value)) return `[${value.map(formatSlowly).join(',')}]`;
      const parts: string[] = [];
      for (const [k, v] of Object.entries(value)) if (v !== undefined) parts.push(`${JSON.stringify(k)}:${formatSlowly(v)}`);
      return `{${parts.join(',')}}`;
    }
    default:
      throw new TypeError(`${typeof value} has no JSON form`);
  }
}
