import { createHash, type Hash } from 'node:crypto';
import { parse as parseYaml } from 'yaml';

/**
 * OPA hashes structured bundle files (data.json, data.yaml, .manifest) over their parsed value, not their
 * bytes: objects as `{` sorted `"key":value` pairs joined by `,` `}`, arrays as `[`…`]`, primitives as Go's
 * JSON encoder writes them, numbers as their literal text. JSON.parse would lose number literals ("1.0"
 * becomes 1), so JSON is read by the small parser below, which keeps them.
 */
class NumberLiteral {
  constructor(readonly text: string) {}
}

type Value = null | boolean | string | NumberLiteral | number | Value[] | { [key: string]: Value };

const HASHES: Record<string, string> = {
  MD5: 'md5',
  'SHA-1': 'sha1',
  'SHA-224': 'sha224',
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
  'SHA-512-224': 'sha512-224',
  'SHA-512-256': 'sha512-256',
};

function nodeHashName(algorithm: string): string | undefined {
  return HASHES[algorithm];
}

function isStructuredFile(path: string): boolean {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return base === 'data.json' || base === 'data.yaml' || base === 'data.yml' || base === '.manifest';
}

/** The digest OPA records for a bundle file, hex encoded. */
export function hashBundleFile(path: string, content: Buffer, algorithm: string): string {
  const name = nodeHashName(algorithm);
  if (!name) throw new Error(`unsupported hashing algorithm ${algorithm}`);
  const hash = createHash(name);
  if (!isStructuredFile(path)) return hash.update(content).digest('hex');
  const text = content.toString('utf8');
  const value: Value = path.endsWith('.json') || path.endsWith('.manifest') ? new JsonReader(text).document() : (parseYaml(text) as Value);
  walk(value, hash);
  return hash.digest('hex');
}

function walk(value: Value, hash: Hash): void {
  if (value instanceof NumberLiteral) {
    hash.update(value.text);
  } else if (Array.isArray(value)) {
    hash.update('[');
    value.forEach((item, i) => {
      if (i > 0) hash.update(',');
      walk(item, hash);
    });
    hash.update(']');
  } else if (value !== null && typeof value === 'object') {
    hash.update('{');
    // Go sorts keys by their UTF-8 bytes.
    const keys = Object.keys(value).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    keys.forEach((key, i) => {
      if (i > 0) hash.update(',');
      hash.update(goString(key));
      hash.update(':');
      walk(value[key] as Value, hash);
    });
    hash.update('}');
  } else if (typeof value === 'string') {
    hash.update(goString(value));
  } else {
    hash.update(JSON.stringify(value));
  }
}

/** Go's encoding/json escapes U+2028 and U+2029, which JSON.stringify leaves as they are. */
function goString(s: string): string {
  return JSON.stringify(s).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

class JsonReader {
  private i = 0;
  constructor(private readonly s: string) {}

  document(): Value {
    const v = this.value();
    this.ws();
    if (this.i !== this.s.length) this.fail('unexpected trailing characters');
    return v;
  }

  private fail(msg: string): never {
    throw new SyntaxError(`invalid JSON at offset ${this.i}: ${msg}`);
  }

  private ws(): void {
    while (this.i < this.s.length && ' \t\n\r'.includes(this.s[this.i] as string)) this.i++;
  }

  private value(): Value {
    this.ws();
    const c = this.s[this.i];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return this.string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (this.s.startsWith(word, this.i)) {
        this.i += word.length;
        return v;
      }
    }
    return this.fail('unexpected character');
  }

  private object(): Value {
    const out: { [key: string]: Value } = {};
    this.i++;
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') this.fail('expected a key');
      const key = this.string();
      this.ws();
      if (this.s[this.i++] !== ':') this.fail('expected ":"');
      out[key] = this.value();
      this.ws();
      const c = this.s[this.i++];
      if (c === '}') return out;
      if (c !== ',') this.fail('expected "," or "}"');
    }
  }

  private array(): Value {
    const out: Value[] = [];
    this.i++;
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.ws();
      const c = this.s[this.i++];
      if (c === ']') return out;
      if (c !== ',') this.fail('expected "," or "]"');
    }
  }

  private string(): string {
    const start = this.i;
    this.i++;
    while (this.i < this.s.length) {
      const c = this.s[this.i];
      if (c === '\\') this.i += 2;
      else if (c === '"') {
        this.i++;
        return JSON.parse(this.s.slice(start, this.i)) as string;
      } else this.i++;
    }
    return this.fail('unterminated string');
  }

  private number(): NumberLiteral {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.s.slice(this.i, this.i + 400));
    if (!m) this.fail('invalid number');
    this.i += m[0].length;
    return new NumberLiteral(m[0]);
  }
}
