import protobuf from 'protobufjs';
import { formatFloat } from '../../policy/value/go-float.js';
import { integer, numberFromText } from '../../policy/value/raw-number.js';

/**
 * The CheckRequest as opa-envoy-plugin hands it to policies (envoyauth/protomap.go): every populated field
 * under its JSON name (lowerCamelCase), maps and lists as objects and arrays, and each value as Go holds
 * it, not as protojson would write it: 64-bit integers and enums are numbers (`size: 57`,
 * `protocol: 1`), bytes base64, a Timestamp or Duration its {seconds, nanos}, an Any its {typeUrl,
 * value}, a wrapper its {value}; only google.protobuf.Struct becomes the plain object it stands for.
 * Proto3 scalars at their zero value are unset, so absent.
 */
export function toProtoMap(type: protobuf.Type, message: object): Record<string, unknown> {
  if (type.fullName === STRUCT) return struct(message as Record<string, unknown>);
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
      // Proto3 scalars without presence are unset at their zero value; oneof members and messages never are.
      if (!f.presence && isDefault(f, v)) continue;
      out[f.json] = value(f, v);
    }
  }
  return out;
}

const STRUCT = '.google.protobuf.Struct';

interface FieldPlan {
  name: string;
  json: string;
  map: boolean;
  repeated: boolean;
  presence: boolean;
  scalar: string;
  enum: boolean;
  message?: protobuf.Type;
}

const plans = new WeakMap<protobuf.Type, FieldPlan[]>();

function plan(type: protobuf.Type): FieldPlan[] {
  let p = plans.get(type);
  if (p) return p;
  p = type.fieldsArray.map((field) => {
    field.resolve();
    const resolved = field.resolvedType;
    return {
      name: field.name,
      json: (field.options?.json_name as string | undefined) ?? camel(field.name),
      map: field.map,
      repeated: field.repeated,
      presence: resolved instanceof protobuf.Type || field.partOf !== null || field.options?.proto3_optional === true,
      scalar: field.type,
      enum: resolved instanceof protobuf.Enum,
      ...(resolved instanceof protobuf.Type ? { message: resolved } : {}),
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
  if (f.message) return toProtoMap(f.message, v as object);
  if (f.enum) return v;
  switch (f.scalar) {
    case 'int64':
    case 'uint64':
    case 'sint64':
    case 'fixed64':
    case 'sfixed64':
      // protobufjs reads 64-bit integers as Long (or a number when it fits); the exact value either way.
      return integer(BigInt(String(v)));
    case 'bytes':
      return Buffer.from(v as Uint8Array).toString('base64');
    case 'double':
      return goFloat(v as number);
    default:
      return v;
  }
}

/** structpb.Struct.AsMap(). protobufjs builds the google.protobuf types with their JSON names (stringValue, not string_value). */
function struct(m: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries((m.fields as Record<string, Record<string, unknown>> | undefined) ?? {})) out[k] = structValue(v);
  return out;
}

function structValue(v: Record<string, unknown>): unknown {
  const has = (k: string) => Object.prototype.hasOwnProperty.call(v, k) && v[k] !== null && v[k] !== undefined;
  if (has('structValue')) return struct(v.structValue as Record<string, unknown>);
  if (has('listValue')) return (((v.listValue as Record<string, unknown>).values as Array<Record<string, unknown>> | undefined) ?? []).map(structValue);
  if (has('stringValue')) return v.stringValue;
  if (has('numberValue')) return goFloat(v.numberValue as number);
  if (has('boolValue')) return v.boolValue;
  return null;
}

/** A float64 as OPA makes it a number: the text of strconv.FormatFloat(f, 'g', -1, 64) (1.569026124e+09). */
function goFloat(f: number): unknown {
  return Number.isFinite(f) ? numberFromText(formatFloat(f, 'g', -1)) : null;
}

/** A time as the {seconds, nanos} of a google.protobuf.Timestamp, zero fields unset. */
export function timestamp(ms: number): { seconds?: number; nanos?: number } {
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.round((ms - seconds * 1000) * 1e6);
  return { ...(seconds ? { seconds } : {}), ...(nanos ? { nanos } : {}) };
}
