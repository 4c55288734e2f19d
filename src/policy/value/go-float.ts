/**
 * strconv.FormatFloat for the formats fmt uses ('e', 'E', 'f', 'g', 'G', 'b', 'x', 'X'), with Go's rounding:
 * the shortest digits that read back to the same double when prec is -1 (JavaScript's own shortest
 * digits are the same ones), else the exact binary value rounded half to even.
 */
export function formatFloat(x: number, fmt: string, prec: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  const neg = x < 0 || Object.is(x, -0);
  const abs = Math.abs(x);
  if (fmt === 'b') return formatBinary(neg, abs);
  if (fmt === 'x' || fmt === 'X') return formatHex(neg, abs, prec, fmt);
  const shortest = prec < 0;
  let digs: Digits;
  if (shortest) {
    digs = shortestDigits(abs);
    switch (fmt) {
      case 'e':
      case 'E':
        prec = Math.max(digs.d.length - 1, 0);
        break;
      case 'f':
        prec = Math.max(digs.d.length - digs.dp, 0);
        break;
      default:
        prec = digs.d.length;
    }
  } else {
    const exact = exactDigits(abs);
    switch (fmt) {
      case 'e':
      case 'E':
        digs = round(exact, prec + 1);
        break;
      case 'f':
        digs = round(exact, exact.dp + prec);
        break;
      default:
        if (prec === 0) prec = 1;
        digs = round(exact, prec);
    }
  }
  switch (fmt) {
    case 'e':
    case 'E':
      return fmtE(neg, digs, prec, fmt);
    case 'f':
      return fmtF(neg, digs, prec);
    default: {
      let eprec = prec;
      if (eprec > digs.d.length && digs.d.length >= digs.dp) eprec = digs.d.length;
      if (shortest) eprec = 6;
      const exp = digs.dp - 1;
      if (exp < -4 || exp >= eprec) {
        if (prec > digs.d.length) prec = digs.d.length;
        return fmtE(neg, digs, prec - 1, fmt === 'G' ? 'E' : 'e');
      }
      if (prec > digs.dp) prec = digs.d.length;
      return fmtF(neg, digs, Math.max(prec - digs.dp, 0));
    }
  }
}

/** Decimal digits (no leading or trailing zeros) and the decimal point's place: value = 0.d × 10^dp. */
interface Digits {
  d: string;
  dp: number;
}

function shortestDigits(x: number): Digits {
  if (x === 0) return { d: '', dp: 0 };
  const [mantissa, exp] = x.toExponential().split('e') as [string, string];
  const d = mantissa.replace('.', '').replace(/0+$/, '');
  return { d, dp: Number(exp) + 1 };
}

/** The exact decimal expansion of a finite non-negative double. */
function exactDigits(x: number): Digits {
  if (x === 0) return { d: '', dp: 0 };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  let e: number;
  if (biased === 0) e = -1074;
  else {
    mant |= 1n << 52n;
    e = biased - 1075;
  }
  let text: string;
  let dp: number;
  if (e >= 0) {
    text = (mant << BigInt(e)).toString();
    dp = text.length;
  } else {
    text = (mant * 5n ** BigInt(-e)).toString();
    dp = text.length + e;
  }
  const lead = text.length - text.replace(/^0+/, '').length;
  return { d: text.slice(lead).replace(/0+$/, ''), dp: dp - lead };
}

/** Rounds to n digits (half to even on an exact tie), dropping trailing zeros as Go's decimal does. */
function round(x: Digits, n: number): Digits {
  if (n < 0) return { d: '', dp: 0 };
  if (n >= x.d.length) return x;
  const next = x.d.charCodeAt(n) - 48;
  const rest = x.d.slice(n + 1);
  const prev = n > 0 ? x.d.charCodeAt(n - 1) - 48 : 0;
  const up = next > 5 || (next === 5 && (rest.length > 0 || prev % 2 === 1));
  let d = x.d.slice(0, n);
  let dp = x.dp;
  if (up) {
    const digits = d.split('').map(Number);
    let i = digits.length - 1;
    while (i >= 0 && digits[i] === 9) digits[i--] = 0;
    if (i < 0) {
      // All nines (or no digit kept): the value becomes the next power of ten.
      d = '1';
      dp++;
    } else {
      digits[i] = (digits[i] as number) + 1;
      d = digits.join('');
    }
  }
  return { d: d.replace(/0+$/, ''), dp };
}

function fmtE(neg: boolean, digs: Digits, prec: number, fmt: string): string {
  let s = neg ? '-' : '';
  s += digs.d.length > 0 ? digs.d[0] : '0';
  if (prec > 0) {
    s += '.';
    let i = 1;
    const m = Math.min(digs.d.length, prec + 1);
    if (i < m) {
      s += digs.d.slice(i, m);
      i = m;
    }
    for (; i <= prec; i++) s += '0';
  }
  s += fmt === 'E' ? 'E' : 'e';
  let exp = digs.dp - 1;
  if (digs.d.length === 0) exp = 0;
  s += exp < 0 ? '-' : '+';
  exp = Math.abs(exp);
  s += exp < 10 ? `0${exp}` : String(exp);
  return s;
}

function fmtF(neg: boolean, digs: Digits, prec: number): string {
  let s = neg ? '-' : '';
  if (digs.dp > 0) {
    const m = Math.min(digs.d.length, digs.dp);
    s += digs.d.slice(0, m);
    for (let i = m; i < digs.dp; i++) s += '0';
  } else s += '0';
  if (prec > 0) {
    s += '.';
    for (let i = 1; i <= prec; i++) {
      const j = digs.dp + i - 1;
      s += j >= 0 && j < digs.d.length ? digs.d[j] : '0';
    }
  }
  return s;
}

function mantExp(x: number): { mant: bigint; exp: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & ((1n << 52n) - 1n);
  return biased === 0 ? { mant: frac, exp: -1074 } : { mant: frac | (1n << 52n), exp: biased - 1075 };
}

/** 'b': decimal mantissa, "p", binary exponent (4503599627370496p-52). */
function formatBinary(neg: boolean, x: number): string {
  const { mant, exp } = mantExp(x);
  return `${neg ? '-' : ''}${mant}p${exp >= 0 ? '+' : ''}${exp}`;
}

/** 'x': -0x1.8p+01 style, the mantissa normalized to 1.xxx and rounded to prec hex digits when given. */
function formatHex(neg: boolean, x: number, prec: number, fmt: string): string {
  let { mant, exp } = mantExp(x);
  if (mant === 0n) exp = 0;
  else {
    // Normalize to a 53-bit mantissa with the leading 1 at bit 52.
    while (mant < 1n << 52n) {
      mant <<= 1n;
      exp--;
    }
    exp += 52;
  }
  let frac = mant & ((1n << 52n) - 1n);
  let lead = mant === 0n ? 0n : 1n;
  let digits = 13;
  if (prec >= 0 && prec < 13) {
    const shift = BigInt((13 - prec) * 4);
    const half = 1n << (shift - 1n);
    const kept = frac >> shift;
    const rest = frac & ((1n << shift) - 1n);
    let rounded = kept;
    if (rest > half || (rest === half && (kept & 1n) === 1n)) rounded++;
    if (rounded >> BigInt(prec * 4) > 0n) {
      rounded &= (1n << BigInt(prec * 4)) - 1n;
      lead++;
      if (lead === 2n) {
        lead = 1n;
        exp++;
      }
    }
    frac = rounded;
    digits = prec;
  }
  let hex = digits > 0 ? frac.toString(16).padStart(digits, '0') : '';
  if (prec < 0) hex = hex.replace(/0+$/, '');
  else if (prec > 13) hex = hex.padEnd(prec, '0');
  const e = Math.abs(exp);
  let s = `${neg ? '-' : ''}0x${lead}${hex.length > 0 ? `.${hex}` : ''}p${exp < 0 ? '-' : '+'}${e < 10 ? `0${e}` : e}`;
  if (fmt === 'X') s = s.toUpperCase();
  return s;
}
