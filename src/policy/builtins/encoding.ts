import { randomUUID } from 'node:crypto';
import { parseAllDocuments } from 'yaml';
import { RegoSet } from '../value/exact.js';
import { compareStrings } from '../value/rego-order.js';
import { goMarshal } from '../value/go-json.js';
import { numberFromText } from '../value/raw-number.js';
import { BuiltinError, obj, str, typeName, type Builtin } from './builtin.js';
import { GoUrlError, parseQuery, queryUnescape } from '../value/go-url.js';

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
  // A fresh random UUID per key, the same for the same key within one evaluation.
  'uuid.rfc4122': (args, evaluation) => {
    const key = `uuid.rfc4122 ${typeName(args[0])}:${goMarshal(args[0])}`;
    if (!evaluation.memo.has(key)) evaluation.memo.set(key, randomUUID());
    return evaluation.memo.get(key);
  },
};
