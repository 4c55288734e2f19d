import { randomInt } from 'node:crypto';
import { RawNumber, integer } from '../value/raw-number.js';
import { numberText } from '../value/rego-order.js';
import { BuiltinError, int, str, typeName, type Builtin } from './builtin.js';

function bigInt(args: unknown[], i: number): bigint {
  const v = args[i];
  if (typeName(v) !== 'number') throw new BuiltinError(`operand ${i + 1} must be number`);
  const text = numberText(v as number | RawNumber);
  if (!/^-?\d+$/.test(text)) throw new BuiltinError(`operand ${i + 1} must be integer number but got floating-point number`);
  return BigInt(text);
}

/** A decimal number as a fraction num / 10^scale (exactly: OPA computes units with big.Rat). */
function decimal(text: string): { num: bigint; scale: number } | undefined {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  const digits = `${m[2]}${m[3] ?? ''}` || '0';
  let scale = (m[3] ?? '').length - Number(m[4] ?? 0);
  let num = BigInt(digits) * (m[1] === '-' ? -1n : 1n);
  if (scale < 0) {
    num *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { num, scale };
}

/** Where a unit suffix starts (OPA's extractNumAndUnit): digits, dots, and an exponent with its sign. */
function split(s: string): { num: string; unit: string } {
  let i = 0;
  for (; i < s.length; i++) {
    const c = s[i] as string;
    if (/[0-9.]/.test(c)) continue;
    if (c === 'e' || c === 'E') {
      const next = s[i + 1];
      if (next === undefined || !/[0-9+-]/.test(next)) break;
      if (next === '+' || next === '-') i++;
      continue;
    }
    if (c === '+' || c === '-') continue;
    break;
  }
  if (/[eE]([+-]?)(\d+)/.test(s.slice(0, i)) && Number(/[eE][+-]?(\d+)/.exec(s.slice(0, i))?.[1]?.length ?? 0) > 3) throw new BuiltinError('exponent too large');
  return { num: s.slice(0, i), unit: s.slice(i) };
}

const SI: Record<string, [bigint, bigint]> = {
  m: [1n, 1000n],
  '': [1n, 1n],
  k: [1000n, 1n],
  K: [1000n, 1n],
  ki: [1024n, 1n],
  Ki: [1024n, 1n],
  M: [1000n ** 2n, 1n],
  mi: [1024n ** 2n, 1n],
  Mi: [1024n ** 2n, 1n],
  g: [1000n ** 3n, 1n],
  G: [1000n ** 3n, 1n],
  gi: [1024n ** 3n, 1n],
  Gi: [1024n ** 3n, 1n],
  t: [1000n ** 4n, 1n],
  T: [1000n ** 4n, 1n],
  ti: [1024n ** 4n, 1n],
  Ti: [1024n ** 4n, 1n],
  p: [1000n ** 5n, 1n],
  P: [1000n ** 5n, 1n],
  pi: [1024n ** 5n, 1n],
  Pi: [1024n ** 5n, 1n],
  e: [1000n ** 6n, 1n],
  E: [1000n ** 6n, 1n],
  ei: [1024n ** 6n, 1n],
  Ei: [1024n ** 6n, 1n],
};

const BYTES: Record<string, bigint> = { '': 1n, kb: 1000n, k: 1000n, kib: 1024n, ki: 1024n, mb: 1000n ** 2n, m: 1000n ** 2n, mib: 1024n ** 2n, mi: 1024n ** 2n, gb: 1000n ** 3n, g: 1000n ** 3n, gib: 1024n ** 3n, gi: 1024n ** 3n, tb: 1000n ** 4n, t: 1000n ** 4n, tib: 1024n ** 4n, ti: 1024n ** 4n, pb: 1000n ** 5n, p: 1000n ** 5n, pib: 1024n ** 5n, pi: 1024n ** 5n, eb: 1000n ** 6n, e: 1000n ** 6n, eib: 1024n ** 6n, ei: 1024n ** 6n };

function unitsParse(args: unknown[]): unknown {
  const s = str(args, 0).replace(/"/g, '');
  if (s.includes(' ')) throw new BuiltinError('spaces not allowed in resource strings');
  const { num, unit: raw } = split(s);
  if (num === '') throw new BuiltinError('no amount provided');
  const unit = raw.length > 1 ? raw[0] + raw.slice(1).toLowerCase() : raw;
  const factor = SI[unit];
  if (!factor) throw new BuiltinError(`unit ${unit} not recognized`);
  const d = decimal(num);
  if (!d) throw new BuiltinError('could not parse amount to a number');
  // value = num / 10^scale * f0 / f1
  const n = d.num * factor[0];
  const den = 10n ** BigInt(d.scale) * factor[1];
  if (n % den === 0n) return integer(n / den);
  // big.Rat.FloatString(10): ten decimals, rounded half away from zero.
  const scaled = (n * 10n ** 10n * 2n + (n < 0n ? -den : den)) / (2n * den);
  const neg = scaled < 0n;
  const abs = (neg ? -scaled : scaled).toString().padStart(11, '0');
  return new RawNumber(`${neg ? '-' : ''}${abs.slice(0, -10)}.${abs.slice(-10)}`);
}

function unitsParseBytes(args: unknown[]): unknown {
  const s = str(args, 0).replace(/"/g, '').toLowerCase();
  if (s.includes(' ')) throw new BuiltinError('spaces not allowed in resource strings');
  const { num, unit } = split(s);
  if (num === '') throw new BuiltinError('no byte amount provided');
  const factor = BYTES[unit];
  if (factor === undefined) throw new BuiltinError(`byte unit ${unit} not recognized`);
  const d = decimal(num);
  if (!d) throw new BuiltinError('could not parse byte amount to a number');
  // big.Float.Int truncates toward zero.
  return integer((d.num * factor) / 10n ** BigInt(d.scale));
}

export const numberBuiltins: Record<string, Builtin> = {
  'numbers.range_step': (args) => {
    const x = bigInt(args, 0);
    const y = bigInt(args, 1);
    const step = bigInt(args, 2);
    if (step <= 0n) throw new BuiltinError('numbers.range_step: step must be a positive integer');
    const out: unknown[] = [];
    if (x <= y) for (let v = x; v <= y; v += step) out.push(integer(v));
    else for (let v = x; v >= y; v -= step) out.push(integer(v));
    return out;
  },
  // The same number for the same arguments within one evaluation, as OPA caches it.
  'rand.intn': (args, evaluation) => {
    const s = str(args, 0);
    let n = int(args, 1);
    if (n === 0) return 0;
    if (n < 0) n = -n;
    const key = `rand.intn ${s}-${n}`;
    if (!evaluation.memo.has(key)) evaluation.memo.set(key, n <= 2 ** 48 ? randomInt(n) : Math.floor(Math.random() * n));
    return evaluation.memo.get(key);
  },
  'units.parse': unitsParse,
  'units.parse_bytes': unitsParseBytes,
};
