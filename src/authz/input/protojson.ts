import protobuf from 'protobufjs';

/**
 * The canonical proto3 JSON mapping (what Go's protojson.Marshal writes, and so what opa-envoy-plugin hands
 * its policies): lowerCamelCase names, unset and default scalars omitted, 64-bit integers as strings,
 * bytes as base64, enums by name, and the well-known types in their special forms.
 */
export function toProtoJson(type: protobuf.Type, message: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const msg = message as Record<string, unknown>;
  for (const f of plan(type)) {
    if (!Object.prototype.hasOwnProperty.call(msg, f.name)) continue;
    const v = msg[f.name];
    if (v === null || v === undefined) continue;
    if (f.map) {
      const src = v as Record<string, unknown>;
      const obj: Record<string, unknown> = {};
      let any = false;
      // String maps (headers, context extensions) are most of a CheckRequest: copied without conversion.
      const strings = f.scalar === 'string';
      for (const k in src) {
        obj[k] = strings ? src[k] : value(f, src[k]);
        any = true;
      }
      if (any) out[f.json] = obj;
    } else if (f.repeated) {
      const list = v as unknown[];
      if (list.length === 0) continue;
      out[f.json] = list.map((x) => value(f, x));
    } else {
      // Proto3 scalars without presence are omitted at their default value; oneof members and messages never are.
      if (!f.presence && isDefault(f, v)) continue;
      out[f.json] = value(f, v);
    }
  }
  return out;
}

interface FieldPlan {
  name: string;
  json: string;
  map: boolean;
  repeated: boolean;
  presence: boolean;
  scalar: string;
  enum?: protobuf.Enum;
  message?: protobuf.Type;
  /** Full name of a well-known message type, computed once: protobufjs derives fullName on every read. */
  wellKnown?: string;
}

const plans = new WeakMap<protobuf.Type, FieldPlan[]>();

function plan(type: protobuf.Type): FieldPlan[] {
  let p = plans.get(type);
  if (p) return p;
  if (WELL_KNOWN.has(type.fullName)) throw new TypeError(`${type.fullName} has no object form`);
  p = type.fieldsArray.map((field) => {
    field.resolve();
    const resolved = field.resolvedType;
    const json = (field.options?.json_name as string | undefined) ?? camel(field.name);
    return {
      name: field.name,
      json,
      map: field.map,
      repeated: field.repeated,
      presence: resolved instanceof protobuf.Type || field.partOf !== null || field.options?.proto3_optional === true,
      scalar: field.type,
      ...(resolved instanceof protobuf.Enum ? { enum: resolved } : {}),
      ...(resolved instanceof protobuf.Type ? { message: resolved } : {}),
      ...(resolved instanceof protobuf.Type && WELL_KNOWN.has(resolved.fullName) ? { wellKnown: resolved.fullName } : {}),
    };
  });
  plans.set(type, p);
  return p;
}

/** protoc's json_name: underscores dropped, the letter after each one upper-cased. */
function camel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function isDefault(f: FieldPlan, v: unknown): boolean {
  if (f.enum) return v === 0;
  switch (f.scalar) {
    case 'string':
      return v === '';
    case 'bool':
      return v === false;
    case 'bytes':
      return (v as Uint8Array).length === 0;
    default:
      return Number(v) === 0 || String(v) === '0';
  }
}

function value(f: FieldPlan, v: unknown): unknown {
  if (f.wellKnown) return wellKnownValue(f.wellKnown, f.message as protobuf.Type, v as Record<string, unknown>);
  if (f.message) return toProtoJson(f.message, v as object);
  if (f.enum) return f.enum.valuesById[v as number] ?? v;
  return scalar(f.scalar, v);
}

function scalar(kind: string, v: unknown): unknown {
  switch (kind) {
    case 'int64':
    case 'uint64':
    case 'sint64':
    case 'fixed64':
    case 'sfixed64':
      return String(v);
    case 'bytes':
      return Buffer.from(v as Uint8Array).toString('base64');
    case 'double':
    case 'float': {
      const n = v as number;
      if (Number.isNaN(n)) return 'NaN';
      if (n === Infinity) return 'Infinity';
      if (n === -Infinity) return '-Infinity';
      return n;
    }
    default:
      return v;
  }
}

const WRAPPERS: Record<string, string> = {
  '.google.protobuf.BoolValue': 'bool',
  '.google.protobuf.StringValue': 'string',
  '.google.protobuf.BytesValue': 'bytes',
  '.google.protobuf.Int32Value': 'int32',
  '.google.protobuf.UInt32Value': 'uint32',
  '.google.protobuf.Int64Value': 'int64',
  '.google.protobuf.UInt64Value': 'uint64',
  '.google.protobuf.FloatValue': 'float',
  '.google.protobuf.DoubleValue': 'double',
};

const WELL_KNOWN = new Set([
  ...Object.keys(WRAPPERS),
  '.google.protobuf.Timestamp',
  '.google.protobuf.Duration',
  '.google.protobuf.Struct',
  '.google.protobuf.Value',
  '.google.protobuf.ListValue',
  '.google.protobuf.Any',
  '.google.protobuf.FieldMask',
]);

function wellKnownValue(name: string, type: protobuf.Type, m: Record<string, unknown>): unknown {
  const wrapped = WRAPPERS[name];
  if (wrapped) return m.value === undefined ? (wrapped === 'string' ? '' : wrapped === 'bool' ? false : scalar(wrapped, 0)) : scalar(wrapped, m.value);
  switch (name) {
    case '.google.protobuf.Timestamp':
      return timestamp(m.seconds, m.nanos as number | undefined);
    case '.google.protobuf.Duration':
      return duration(m.seconds, m.nanos as number | undefined);
    case '.google.protobuf.Struct':
      return struct(m);
    case '.google.protobuf.Value':
      return structValue(m);
    case '.google.protobuf.ListValue':
      return ((m.values as Array<Record<string, unknown>> | undefined) ?? []).map(structValue);
    case '.google.protobuf.FieldMask':
      return ((m.paths as string[] | undefined) ?? []).map(camel).join(',');
    default:
      return any(type, m);
  }
}

function struct(m: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries((m.fields as Record<string, Record<string, unknown>> | undefined) ?? {})) out[k] = structValue(v);
  return out;
}

// protobufjs builds the google.protobuf types in with their JSON names (stringValue, not string_value).
function structValue(v: Record<string, unknown>): unknown {
  const has = (k: string) => Object.prototype.hasOwnProperty.call(v, k) && v[k] !== null && v[k] !== undefined;
  if (has('structValue')) return struct(v.structValue as Record<string, unknown>);
  if (has('listValue')) return (((v.listValue as Record<string, unknown>).values as Array<Record<string, unknown>> | undefined) ?? []).map(structValue);
  if (has('stringValue')) return v.stringValue;
  if (has('numberValue')) return v.numberValue;
  if (has('boolValue')) return v.boolValue;
  return null;
}

function any(anyType: protobuf.Type, m: Record<string, unknown>): unknown {
  const url = (m.type_url as string | undefined) ?? '';
  const name = url.slice(url.lastIndexOf('/') + 1);
  const inner = anyType.root.lookup(name);
  // protojson cannot marshal an Any whose type it does not know; neither can we, and a guess would mislead a policy.
  if (!(inner instanceof protobuf.Type)) throw new TypeError(`unknown type in google.protobuf.Any: ${url}`);
  const decoded = inner.decode((m.value as Uint8Array | undefined) ?? new Uint8Array()) as unknown as Record<string, unknown>;
  if (WELL_KNOWN.has(inner.fullName)) return { '@type': url, value: wellKnownValue(inner.fullName, inner, decoded) };
  return { '@type': url, ...toProtoJson(inner, decoded) };
}

/** RFC 3339 in UTC with 0, 3, 6 or 9 fractional digits, as protojson writes it. */
export function timestamp(seconds: unknown, nanos = 0): string {
  const s = Number(seconds ?? 0);
  // Requests arrive many to a second: the date part is formatted once per second.
  if (s !== lastSeconds) {
    lastSeconds = s;
    lastIso = new Date(s * 1000).toISOString().slice(0, 19);
  }
  return `${lastIso}${fraction(nanos)}Z`;
}

let lastSeconds = NaN;
let lastIso = '';

function duration(seconds: unknown, nanos = 0): string {
  const s = Number(seconds ?? 0);
  const sign = s < 0 || nanos < 0 ? '-' : '';
  return `${sign}${Math.abs(s)}${fraction(Math.abs(nanos))}s`;
}

function fraction(nanos: number): string {
  if (!nanos) return '';
  const digits = String(nanos).padStart(9, '0');
  if (nanos % 1_000_000 === 0) return `.${digits.slice(0, 3)}`;
  if (nanos % 1000 === 0) return `.${digits.slice(0, 6)}`;
  return `.${digits}`;
}
