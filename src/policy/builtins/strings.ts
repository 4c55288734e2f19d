import { RegoSet } from '../value/exact.js';
import { RawNumber } from '../value/raw-number.js';
import { compareStrings, numberText, sortedItems } from '../value/rego-order.js';
import { arr, BuiltinError, int, items, str, typeName, type Builtin } from './builtin.js';
import { goQuoteString } from '../value/go-quote.js';
import { goSprintf, type GoArg } from './go-fmt.js';

/** A value as OPA prints it (ast.Value.String()): strings quoted, objects' keys and sets sorted. */
export function regoText(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'number' || v instanceof RawNumber) return numberText(v);
  if (typeof v === 'string') return goQuoteString(v);
  if (Array.isArray(v)) return `[${v.map(regoText).join(', ')}]`;
  if (v instanceof RegoSet) return v.items.length === 0 ? 'set()' : `{${sortedItems(v).map(regoText).join(', ')}}`;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).sort(compareStrings);
  if (keys.length === 0) return '{}';
  return `{${keys.map((k) => `${goQuoteString(k)}: ${regoText(o[k])}`).join(', ')}}`;
}

/** What OPA's sprintf passes fmt for each element: int64, *big.Int or float64 by the number's text, a string as is, anything else as its text. */
function goArg(v: unknown): GoArg {
  if (typeof v === 'string') return { t: 'string', v };
  if (typeof v === 'number' || v instanceof RawNumber) {
    const text = numberText(v);
    if (/[.eE]/.test(text)) {
      const f = Number(text);
      return Number.isFinite(f) ? { t: 'float64', v: f } : { t: 'string', v: text };
    }
    const big = BigInt(text);
    return big >= -(2n ** 63n) && big < 2n ** 63n ? { t: 'int64', v: big } : { t: '*big.Int', v: big };
  }
  return { t: 'string', v: regoText(v) };
}

function sprintf(args: unknown[]): string {
  const format = str(args, 0);
  const list = arr(args, 1);
  return goSprintf(format, list.map(goArg));
}

/** Go's strings.Count: non-overlapping occurrences, runes+1 for an empty substring. */
function count(s: string, sub: string): number {
  if (sub === '') return [...s].length + 1;
  let n = 0;
  for (let i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + sub.length)) n++;
  return n;
}

function affixMatch(args: unknown[], suffix: boolean): boolean {
  const search = typeof args[0] === 'string' ? [args[0]] : stringList(args, 0);
  const base = typeof args[1] === 'string' ? [args[1]] : stringList(args, 1);
  return search.some((s) => base.some((b) => (suffix ? s.endsWith(b) : s.startsWith(b))));
}

function stringList(args: unknown[], i: number): string[] {
  const list = items(args, i);
  for (const x of list) if (typeof x !== 'string') throw new BuiltinError(`operand ${i + 1} must be array of strings but got ${typeName(x)}`);
  return list as string[];
}

export const stringBuiltins: Record<string, Builtin> = {
  sprintf,
  'strings.count': (args) => count(str(args, 0), str(args, 1)),
  'strings.any_prefix_match': (args) => affixMatch(args, false),
  'strings.any_suffix_match': (args) => affixMatch(args, true),
  indexof_n: (args) => {
    const base = [...str(args, 0)];
    const search = [...str(args, 1)];
    if (search.length === 0) throw new BuiltinError('empty search character');
    const out: number[] = [];
    for (let i = 0; i + search.length <= base.length; i++) if (search.every((c, j) => base[i + j] === c)) out.push(i);
    return out;
  },
  'strings.split_n': (args) => {
    const s = str(args, 0);
    const sep = str(args, 1);
    const n = int(args, 2);
    return goSplitN(s, sep, n);
  },
  'glob.quote_meta': (args) => str(args, 0).replace(/[\\*?[\]{}]/g, (c) => `\\${c}`),
};

/** Go's strings.SplitN. */
function goSplitN(s: string, sep: string, n: number): string[] {
  if (n === 0) return [];
  if (sep === '') {
    const runes = [...s];
    if (n < 0 || n >= runes.length) return runes;
    return [...runes.slice(0, n - 1), runes.slice(n - 1).join('')];
  }
  if (n < 0) return s.split(sep);
  const out: string[] = [];
  let rest = s;
  while (out.length < n - 1) {
    const i = rest.indexOf(sep);
    if (i < 0) break;
    out.push(rest.slice(0, i));
    rest = rest.slice(i + sep.length);
  }
  out.push(rest);
  return out;
}
