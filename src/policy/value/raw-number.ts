import { randomBytes } from 'node:crypto';

/**
 * A JSON number kept as the text it was written in, because a double would change it: OPA keeps numbers
 * as their text (json.Number, ast.Number), so `1000.00000000000000001`, `1e400`, `10.0` or a 19-digit
 * integer reach a policy, a builtin and a response exactly as written. Numbers a double holds exactly
 * (String(Number(text)) === text) stay plain numbers; only the others are wrapped.
 */
export class RawNumber {
  constructor(readonly text: string) {}

  /** The nearest double, for code that only needs the magnitude. */
  valueOf(): number {
    return Number(this.text);
  }

  /** JSON.stringify writes a marker that stringify() below turns back into the bare number. */
  toJSON(): string {
    return `${MARK}${this.text}`;
  }
}

/** The number a JSON number text stands for: a double when that is exact, else the text itself. */
export function numberFromText(text: string): number | RawNumber {
  const n = Number(text);
  return String(n) === text ? n : new RawNumber(text);
}

/** A number from a bigint or an integer-valued string of any size. */
export function integer(value: bigint | number): number | RawNumber {
  if (typeof value === 'number') return value;
  return Number.isSafeInteger(Number(value)) ? Number(value) : new RawNumber(value.toString());
}

export function isNumber(v: unknown): v is number | RawNumber {
  return typeof v === 'number' || v instanceof RawNumber;
}

// A per-process random marker: no request can spell it, so no string in an input becomes a number.
const MARK = `\u{1F522}${randomBytes(12).toString('hex')}:`;
const MARKED = new RegExp(`"${MARK}([-+.0-9eE]+)"`, 'gu');

/** JSON.stringify that writes RawNumbers as the numbers they are. */
export function stringify(value: unknown): string {
  const json = JSON.stringify(value);
  return json !== undefined && json.includes(MARK) ? json.replace(MARKED, '$1') : json;
}
