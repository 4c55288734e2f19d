import { RawNumber } from '../value/raw-number.js';
import { RegoSet } from '../value/exact.js';

/**
 * A builtin the policy's WebAssembly calls on its host. Arguments and result are values as
 * src/policy/value reads and writes them: JSON values, RawNumbers for numbers a double cannot hold,
 * RegoSets for sets. Returning undefined makes the call undefined.
 */
export type Builtin = (args: unknown[], evaluation: Evaluation) => unknown;

/**
 * An error of a builtin that OPA turns into an undefined result (its default, without
 * strict-builtin-errors): the policy goes on as if the expression did not hold.
 */
export class BuiltinError extends Error {
  override name = 'BuiltinError';
}

/** An error that stops the whole evaluation in OPA too (topdown.Halt, e.g. http.send's raise_error). */
export class BuiltinHalt extends Error {
  override name = 'BuiltinHalt';
}

/**
 * What one evaluation shares between its builtin calls: OPA fixes the time once per query (time.now_ns and
 * io.jwt.decode_verify's default clock agree within an evaluation), and non-deterministic builtins
 * (rand.intn, uuid.rfc4122) answer the same to the same arguments within it.
 */
export class Evaluation {
  private ns: bigint | undefined;
  readonly memo = new Map<string, unknown>();

  /** Nanoseconds since the epoch, read at the first call in this evaluation. */
  now(): bigint {
    if (this.ns === undefined) this.ns = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
    return this.ns;
  }
}

// -- Operand readers: a wrong type is an error, hence undefined, as OPA's builtins.StringOperand & co.

export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'number' || v instanceof RawNumber) return 'number';
  if (Array.isArray(v)) return 'array';
  if (v instanceof RegoSet) return 'set';
  return 'object';
}

export function str(args: unknown[], i: number): string {
  const v = args[i];
  if (typeof v !== 'string') throw new BuiltinError(`operand ${i + 1} must be string but got ${typeName(v)}`);
  return v;
}

export function num(args: unknown[], i: number): number {
  const v = args[i];
  if (typeof v === 'number') return v;
  if (v instanceof RawNumber) return Number(v.text);
  throw new BuiltinError(`operand ${i + 1} must be number but got ${typeName(v)}`);
}

/** A number operand that must be an integer (OPA's builtins.IntOperand). */
export function int(args: unknown[], i: number): number {
  const n = num(args, i);
  if (!Number.isInteger(n)) throw new BuiltinError(`operand ${i + 1} must be integer number but got floating-point number`);
  return n;
}

export function obj(args: unknown[], i: number): Record<string, unknown> {
  const v = args[i];
  if (typeName(v) !== 'object') throw new BuiltinError(`operand ${i + 1} must be object but got ${typeName(v)}`);
  return v as Record<string, unknown>;
}

export function arr(args: unknown[], i: number): unknown[] {
  const v = args[i];
  if (!Array.isArray(v)) throw new BuiltinError(`operand ${i + 1} must be array but got ${typeName(v)}`);
  return v;
}

/** An array or set operand, as its elements. */
export function items(args: unknown[], i: number): unknown[] {
  const v = args[i];
  if (Array.isArray(v)) return v;
  if (v instanceof RegoSet) return v.items;
  throw new BuiltinError(`operand ${i + 1} must be one of {array, set} but got ${typeName(v)}`);
}

export function bool(args: unknown[], i: number): boolean {
  const v = args[i];
  if (typeof v !== 'boolean') throw new BuiltinError(`operand ${i + 1} must be boolean but got ${typeName(v)}`);
  return v;
}
