import { randomUUID } from 'node:crypto';
import { parseAllDocuments } from 'yaml';
import { RegoSet } from '../value/exact.js';
import { compareStrings } from '../value/rego-order.js';
import { goMarshal } from '../value/go-json.js';
import { numberFromText } from '../value/raw-number.js';
import { BuiltinError, obj, str, typeName, type Builtin } from './builtin.js';
import { GoUrlError, parseQuery, parseUrl, queryUnescape, splitHostPort } from '../value/go-url.js';

/** Go's url.QueryEscape: unreserved characters kept, a space as "+", every other byte as %XX. */
export function queryEscape(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s)) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function encodeObject(args: unknown[]): string {
  const o = obj(args, 0);
  const values = new Map<string, string[]>();
  for (const [k, v] of Object.entries(o)) {
    if (typeof v === 'string') values.set(k, [v]);
    else if (Array.isArray(v) || v instanceof RegoSet) {
      const list = v instanceof RegoSet ? v.items : v;
      if (!list.every((x) => typeof x === 'string')) throw new BuiltinError('operand 1 values must be string, array[string], or set[string]');
      values.set(k, list as string[]);
    } else throw new BuiltinError('operand 1 values must be string, array[string], or set[string]');
  }
  // url.Values.Encode: keys in byte order, each value as key=value.
  return [...values.keys()]
    .sort(compareStrings)
    .flatMap((k) => (values.get(k) as string[]).map((v) => `${queryEscape(k)}=${queryEscape(v)}`))
    .join('&');
}

/** json.MarshalIndent's layout of Go's compact JSON: each element on its own line, prefix then indent per level. */
function indentJson(json: string, prefix: string, indent: string): string {
  let out = '';
  let depth = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i] as string;
    if (inString) {
      out += c;
      if (c === '\\') out += json[++i];
      else if (c === '"') inString = false;
      continue;
    }
    const newline = (d: number) => `\n${prefix}${indent.repeat(d)}`;
    if (c === '"') {
      inString = true;
      out += c;
    } else if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      if (json[i + 1] === close) {
        out += c + close;
        i++;
      } else out += c + newline(++depth);
    } else if (c === '}' || c === ']') out += newline(--depth) + c;
    else if (c === ',') out += c + newline(depth);
    else if (c === ':') out += ': ';
    else out += c;
  }
  return out;
}

function marshalWithOptions(args: unknown[]): string {
  const options = obj(args, 1);
  let indent = '\t';
  let prefix = '';
  let implicit = false;
  let explicit: boolean | undefined;
  for (const [k, v] of Object.entries(options)) {
    if (k === 'prefix' || k === 'indent') {
      if (typeof v !== 'string') throw new BuiltinError(`operand 2 key ${k} failed cast to string`);
      if (k === 'prefix') prefix = v;
      else indent = v;
      implicit = true;
    } else if (k === 'pretty') {
      if (typeof v !== 'boolean') throw new BuiltinError(`operand 2 key ${k} failed cast to bool`);
      explicit = v;
    } else throw new BuiltinError(`operand 2 object contained unknown key ${k}`);
  }
  const json = goMarshal(args[0]);
  return (explicit ?? implicit) ? prefix + indentJson(json, prefix, indent) : json;
}

/** A YAML document as JSON values, as OPA's internal/yaml reads it (YAML 1.2 core schema, the last of duplicate keys, timestamps as strings). */
function yamlValue(text: string): unknown {
  const docs = parseAllDocuments(text, { uniqueKeys: false, intAsBigInt: true });
  const list = Array.isArray(docs) ? docs : [docs];
  for (const d of list) if (d.errors.length > 0) throw new BuiltinError((d.errors[0] as Error).message);
  const first = list[0];
  if (!first) return null;
  return toJsonValue(first.toJS({ maxAliasCount: 100 }));
}

function toJsonValue(v: unknown): unknown {
  if (typeof v === 'bigint') return numberFromText(v.toString());
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new BuiltinError('json: unsupported value');
    return v;
  }
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [typeof k === 'string' ? k : String(k), toJsonValue(x)]));
  if (v instanceof Set) return [...v].map(toJsonValue);
  if (Array.isArray(v)) return v.map(toJsonValue);
  if (v instanceof Date) return v.toISOString();
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJsonValue(x)]));
  return v === undefined ? null : v;
}

/** OPA's uri.parse: the non-empty parts of Go's url.Parse, raw_path always beside a path. */
function uriParse(args: unknown[]): Record<string, string> {
  const url = goUrl(() => parseUrl(str(args, 0)));
  const [hostname, port] = splitHostPort(url.host);
  const out: Record<string, string> = {};
  if (url.scheme !== '') out.scheme = url.scheme;
  if (hostname !== '') out.hostname = hostname;
  if (port !== '') out.port = port;
  if (url.path !== '') {
    out.path = url.path;
    out.raw_path = url.rawPath || url.path;
  }
  if (url.rawQuery !== '') out.raw_query = url.rawQuery;
  if (url.fragment !== '') out.fragment = url.fragment;
  return out;
}

/** github.com/google/uuid's Parse: 16 bytes, or undefined for text it refuses. */
function uuidBytes(text: string): Buffer | undefined {
  let s = text;
  const hex = (t: string) => (/^[0-9a-fA-F]{2}$/.test(t) ? parseInt(t, 16) : undefined);
  if (s.length === 32) {
    const out = Buffer.alloc(16);
    for (let i = 0; i < 16; i++) {
      const b = hex(s.slice(2 * i, 2 * i + 2));
      if (b === undefined) return undefined;
      out[i] = b;
    }
    return out;
  }
  if (s.length === 45) {
    if (s.slice(0, 9).toLowerCase() !== 'urn:uuid:') return undefined;
    s = s.slice(9);
  } else if (s.length === 38) s = s.slice(1); // the braces are not checked
  else if (s.length !== 36) return undefined;
  if (s[8] !== '-' || s[13] !== '-' || s[18] !== '-' || s[23] !== '-') return undefined;
  const out = Buffer.alloc(16);
  const offsets = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
  for (let i = 0; i < 16; i++) {
    const b = hex(s.slice(offsets[i] as number, (offsets[i] as number) + 2));
    if (b === undefined) return undefined;
    out[i] = b;
  }
  return out;
}

/** 100 ns intervals between the Gregorian reform (1582-10-15) and the Unix epoch. */
const G1582_NS100 = BigInt(2440587 - 2299160) * 86400n * 10000000n;

/** OPA's uuid.parse: version and variant; for versions 1 and 2 the time, node, clock sequence (and DCE domain and id). */
function uuidParse(args: unknown[]): Record<string, unknown> | undefined {
  const u = uuidBytes(str(args, 0));
  if (!u) return undefined;
  const version = (u[6] as number) >> 4;
  const v8 = u[8] as number;
  const variant = (v8 & 0xc0) === 0x80 ? 'RFC4122' : (v8 & 0xe0) === 0xc0 ? 'Microsoft' : (v8 & 0xe0) === 0xe0 ? 'Future' : 'Reserved';
  const out: Record<string, unknown> = { version, variant };
  if (version === 1 || version === 2) {
    const t = BigInt(u.readUInt32BE(0)) | (BigInt(u.readUInt16BE(4)) << 32n) | (BigInt(u.readUInt16BE(6) & 0xfff) << 48n);
    // Go's int64 division and remainder truncate toward zero, as BigInt's do; its multiplication wraps
    // around (a time before 1678 comes out as a large positive number, as in OPA).
    const since = t - G1582_NS100;
    out.time = numberFromText(BigInt.asIntN(64, (since / 10000000n) * 1000000000n + (since % 10000000n) * 100n).toString());
    const node = u.subarray(10, 16);
    out.nodeid = [...node].map((b) => b.toString(16).padStart(2, '0')).join('-');
    const first = node[0] as number;
    out.macvariables = (first & 3) === 3 ? 'local:multicast' : (first & 1) === 1 ? 'global:multicast' : (first & 2) === 2 ? 'local:unicast' : 'global:unicast';
    out.clocksequence = u.readUInt16BE(8) & 0x3fff;
    if (version === 2) {
      out.id = u.readUInt32BE(0);
      const domain = u[9] as number;
      out.domain = ['Person', 'Group', 'Org'][domain] ?? `Domain${domain}`;
    }
  }
  return out;
}

function goUrl<T>(run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (err instanceof GoUrlError) throw new BuiltinError(err.message);
    throw err;
  }
}

export const encodingBuiltins: Record<string, Builtin> = {
  'urlquery.encode': (args) => queryEscape(str(args, 0)),
  'urlquery.decode': (args) => goUrl(() => queryUnescape(str(args, 0))),
  'urlquery.encode_object': encodeObject,
  'urlquery.decode_object': (args) => goUrl(() => parseQuery(str(args, 0))),
  'json.marshal_with_options': marshalWithOptions,
  'yaml.unmarshal': (args) => yamlValue(str(args, 0)),
  'yaml.is_valid': (args) => {
    if (typeof args[0] !== 'string') return false;
    try {
      yamlValue(args[0]);
      return true;
    } catch {
      return false;
    }
  },
  'uri.parse': uriParse,
  'uri.is_valid': (args) => {
    if (typeof args[0] !== 'string' || args[0] === '') return false;
    try {
      parseUrl(args[0]);
      return true;
    } catch (err) {
      if (err instanceof GoUrlError) return false;
      throw err;
    }
  },
  'uuid.parse': uuidParse,
  // A fresh random UUID per key, the same for the same key within one evaluation.
  'uuid.rfc4122': (args, evaluation) => {
    const key = `uuid.rfc4122 ${typeName(args[0])}:${goMarshal(args[0])}`;
    if (!evaluation.memo.has(key)) evaluation.memo.set(key, randomUUID());
    return evaluation.memo.get(key);
  },
};
