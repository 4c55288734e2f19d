import { RegoSet } from './exact.js';
import { RawNumber } from './raw-number.js';

/** The text of a number as OPA holds it. */
export function numberText(v: number | RawNumber): string {
  return v instanceof RawNumber ? v.text : JSON.stringify(v);
}

const RANK = { null: 0, boolean: 1, number: 2, string: 3, array: 6, object: 7, set: 8 } as const;

function rank(v: unknown): number {
  if (v === null || v === undefined) return RANK.null;
  if (typeof v === 'boolean') return RANK.boolean;
  if (typeof v === 'number' || v instanceof RawNumber) return RANK.number;
  if (typeof v === 'string') return RANK.string;
  if (Array.isArray(v)) return RANK.array;
  if (v instanceof RegoSet) return RANK.set;
  return RANK.object;
}

/** Numbers compared by value; integers of any size exactly. */
export function compareNumbers(a: number | RawNumber, b: number | RawNumber): number {
  const ta = numberText(a);
  const tb = numberText(b);
  if (/^-?\d+$/.test(ta) && /^-?\d+$/.test(tb)) {
    const x = BigInt(ta);
    const y = BigInt(tb);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const x = Number(ta);
  const y = Number(tb);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Go compares strings byte by byte: UTF-8 order, which is code point order. */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i) as number;
    const y = b.codePointAt(i) as number;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

/** OPA's ast.Compare: by type (null, boolean, number, string, array, object, set), then by value. */
export function compareValues(a: unknown, b: unknown): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case RANK.null:
      return 0;
    case RANK.boolean:
      return a === b ? 0 : a ? 1 : -1;
    case RANK.number:
      return compareNumbers(a as number | RawNumber, b as number | RawNumber);
    case RANK.string:
      return compareStrings(a as string, b as string);
    case RANK.array:
      return compareLists(a as unknown[], b as unknown[]);
    case RANK.set:
      return compareLists(sortedItems(a as RegoSet), sortedItems(b as RegoSet));
    default: {
      const ka = Object.keys(a as object).sort(compareStrings);
      const kb = Object.keys(b as object).sort(compareStrings);
      const n = Math.min(ka.length, kb.length);
      for (let i = 0; i < n; i++) {
        const c = compareStrings(ka[i] as string, kb[i] as string) || compareValues((a as Record<string, unknown>)[ka[i] as string], (b as Record<string, unknown>)[kb[i] as string]);
        if (c !== 0) return c;
      }
      return ka.length - kb.length < 0 ? -1 : ka.length > kb.length ? 1 : 0;
    }
  }
}

function compareLists(a: unknown[], b: unknown[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareValues(a[i], b[i]);
    if (c !== 0) return c;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

export function sortedItems(s: RegoSet): unknown[] {
  return [...s.items].sort(compareValues);
}

/** A set from values, duplicates removed, in OPA's order. */
export function regoSet(values: unknown[]): RegoSet {
  const sorted = [...values].sort(compareValues);
  return new RegoSet(sorted.filter((v, i) => i === 0 || compareValues(sorted[i - 1], v) !== 0));
}
