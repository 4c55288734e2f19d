import { goQuoteAscii, goQuoteString, isPrint, quoteRune } from '../value/go-quote.js';
import { formatFloat } from '../value/go-float.js';

/** An argument as OPA's sprintf hands it to fmt.Sprintf: int64, *big.Int, float64 or string. */
export type GoArg = { t: 'int64'; v: bigint } | { t: '*big.Int'; v: bigint } | { t: 'float64'; v: number } | { t: 'string'; v: string };

interface Flags {
  plus: boolean;
  minus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  wid: number;
  widPresent: boolean;
  prec: number;
  precPresent: boolean;
  sharpV: boolean;
  plusV: boolean;
}

const fresh = (): Flags => ({ plus: false, minus: false, sharp: false, space: false, zero: false, wid: 0, widPresent: false, prec: 0, precPresent: false, sharpV: false, plusV: false });

/** Go's fmt.Sprintf for the argument kinds Rego values become, with Go's error notations (%!d(string=x), MISSING, EXTRA, ...). */
export function goSprintf(format: string, args: GoArg[]): string {
  let out = '';
  let argNum = 0;
  let reordered = false;
  let goodArgNum = true;
  const end = format.length;
  let i = 0;
  while (i < end) {
    goodArgNum = true;
    const pct = format.indexOf('%', i);
    if (pct < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, pct);
    i = pct + 1;
    const f = fresh();
    // Flags.
    for (; i < end; i++) {
      const c = format[i];
      if (c === '#') f.sharp = true;
      else if (c === '0') f.zero = !f.minus;
      else if (c === '+') f.plus = true;
      else if (c === '-') {
        f.minus = true;
        f.zero = false;
      } else if (c === ' ') f.space = true;
      else break;
    }
    // Argument index, then width.
    let afterIndex = false;
    ({ argNum, i, afterIndex, goodArgNum, reordered } = argNumber(format, i, argNum, args.length, goodArgNum, reordered));
    if (i < end && format[i] === '*') {
      i++;
      const w = intFromArg(args, argNum);
      argNum = w.argNum;
      f.wid = w.n;
      f.widPresent = w.ok;
      if (!w.ok) out += '%!(BADWIDTH)';
      if (f.wid < 0) {
        f.wid = -f.wid;
        f.minus = true;
        f.zero = false;
      }
      afterIndex = false;
    } else {
      const n = parseNum(format, i);
      f.wid = n.n;
      f.widPresent = n.ok;
      i = n.i;
      if (afterIndex && f.widPresent) goodArgNum = false;
    }
    // Precision.
    if (i + 1 <= end && format[i] === '.') {
      i++;
      if (afterIndex) goodArgNum = false;
      ({ argNum, i, afterIndex, goodArgNum, reordered } = argNumber(format, i, argNum, args.length, goodArgNum, reordered));
      if (i < end && format[i] === '*') {
        i++;
        const p = intFromArg(args, argNum);
        argNum = p.argNum;
        f.prec = p.n;
        f.precPresent = p.ok;
        if (f.prec < 0) {
          f.prec = 0;
          f.precPresent = false;
        }
        if (!p.ok) out += '%!(BADPREC)';
        afterIndex = false;
      } else {
        const n = parseNum(format, i);
        f.prec = n.n;
        f.precPresent = true;
        i = n.i;
      }
    }
    if (!afterIndex) ({ argNum, i, afterIndex, goodArgNum, reordered } = argNumber(format, i, argNum, args.length, goodArgNum, reordered));
    if (i >= end) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i) as number);
    i += verb.length;
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (!goodArgNum) {
      out += `%!${verb}(BADINDEX)`;
      continue;
    }
    if (argNum >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    if (verb === 'w') {
      out += badVerb(verb, args[argNum] as GoArg, f);
      argNum++;
      continue;
    }
    if (verb === 'v') {
      if (f.sharp) {
        f.sharp = false;
        f.sharpV = true;
      }
      if (f.plus) {
        f.plus = false;
        f.plusV = true;
      }
    }
    out += printArg(args[argNum] as GoArg, verb, f);
    argNum++;
  }
  if (!reordered && argNum < args.length) {
    out += `%!(EXTRA ${args
      .slice(argNum)
      .map((a) => `${a.t}=${printArg(a, 'v', fresh())}`)
      .join(', ')})`;
  }
  return out;
}

function argNumber(format: string, i: number, argNum: number, numArgs: number, good: boolean, reordered: boolean) {
  if (i >= format.length || format[i] !== '[') return { argNum, i, afterIndex: false, goodArgNum: good, reordered };
  reordered = true;
  const close = format.indexOf(']', i + 1);
  if (close < 0) return { argNum, i: format.length, afterIndex: false, goodArgNum: false, reordered };
  const digits = format.slice(i + 1, close);
  if (!/^[0-9]+$/.test(digits)) return { argNum, i: close + 1, afterIndex: false, goodArgNum: false, reordered };
  const index = Number(digits) - 1;
  if (index >= 0 && index < numArgs) return { argNum: index, i: close + 1, afterIndex: true, goodArgNum: good, reordered };
  return { argNum, i: close + 1, afterIndex: true, goodArgNum: false, reordered };
}

function parseNum(format: string, i: number): { n: number; ok: boolean; i: number } {
  let n = 0;
  let ok = false;
  while (i < format.length && format[i] !== undefined && (format[i] as string) >= '0' && (format[i] as string) <= '9') {
    // Go refuses absurd widths (tooLarge): the verb then has no width.
    if (n > 1e6) return { n: 0, ok: false, i: format.length };
    n = n * 10 + Number(format[i]);
    ok = true;
    i++;
  }
  return { n, ok, i };
}

function intFromArg(args: GoArg[], argNum: number): { n: number; ok: boolean; argNum: number } {
  const a = args[argNum];
  if (argNum >= args.length || !a) return { n: 0, ok: false, argNum };
  if (a.t !== 'int64') return { n: 0, ok: false, argNum: argNum + 1 };
  const n = Number(a.v);
  if (n > 1e6 || n < -1e6) return { n: 0, ok: false, argNum: argNum + 1 };
  return { n, ok: true, argNum: argNum + 1 };
}

function badVerb(verb: string, a: GoArg, f: Flags): string {
  return `%!${verb}(${a.t}=${printArg(a, 'v', f)})`;
}

function printArg(a: GoArg, verb: string, f: Flags): string {
  switch (a.t) {
    case 'int64':
      return fmtInt(a, verb, f);
    case '*big.Int':
      return fmtBig(a.v, verb, f);
    case 'float64':
      switch (verb) {
        case 'v':
          return fmtFloat(a.v, 'g', -1, f, verb);
        case 'b':
        case 'g':
        case 'G':
        case 'x':
        case 'X':
          return fmtFloat(a.v, verb, -1, f, verb);
        case 'f':
        case 'e':
        case 'E':
          return fmtFloat(a.v, verb, 6, f, verb);
        case 'F':
          return fmtFloat(a.v, 'f', 6, f, verb);
        default:
          return badVerb(verb, a, f);
      }
    case 'string':
      switch (verb) {
        case 'v':
          return f.sharpV ? fmtQ(a.v, f) : fmtS(a.v, f);
        case 's':
          return fmtS(a.v, f);
        case 'x':
        case 'X':
          return fmtSx(a.v, f, verb === 'X');
        case 'q':
          return fmtQ(a.v, f);
        default:
          return badVerb(verb, a, f);
      }
  }
}

/** Pads to the width, counting runes, on the left (spaces or zeros) or on the right. */
function pad(s: string, f: Flags, zeroAllowed = true): string {
  if (!f.widPresent || f.wid === 0) return s;
  const width = f.wid - [...s].length;
  if (width <= 0) return s;
  if (f.minus) return s + ' '.repeat(width);
  return (f.zero && zeroAllowed ? '0' : ' ').repeat(width) + s;
}

function fmtInt(a: { t: 'int64'; v: bigint }, verb: string, f: Flags): string {
  switch (verb) {
    case 'v':
    case 'd':
      return fmtInteger(a.v, 10, verb, f);
    case 'b':
      return fmtInteger(a.v, 2, verb, f);
    case 'o':
    case 'O':
      return fmtInteger(a.v, 8, verb, f);
    case 'x':
    case 'X':
      return fmtInteger(a.v, 16, verb, f);
    case 'c':
      return pad(runeOf(a.v), f);
    case 'q':
      return pad(quoteRune(runeOf(a.v), f.plus), f);
    case 'U':
      return fmtUnicode(a.v, f);
    default:
      return badVerb(verb, a, f);
  }
}

function runeOf(v: bigint): string {
  return v >= 0n && v <= 0x10ffffn && !(v >= 0xd800n && v <= 0xdfffn) ? String.fromCodePoint(Number(v)) : '\uFFFD';
}

function fmtInteger(v: bigint, base: number, verb: string, f: Flags): string {
  const negative = v < 0n;
  const u = negative ? -v : v;
  let prec = 0;
  if (f.precPresent) {
    prec = f.prec;
    if (prec === 0 && u === 0n) return f.widPresent ? ' '.repeat(f.wid) : '';
  } else if (f.zero && !f.minus && f.widPresent) {
    prec = f.wid;
    if (negative || f.plus || f.space) prec--;
  }
  let digits = u.toString(base);
  if (verb === 'X') digits = digits.toUpperCase();
  if (digits.length < prec) digits = '0'.repeat(prec - digits.length) + digits;
  if (f.sharp) {
    if (base === 2) digits = `0b${digits}`;
    else if (base === 8 && digits[0] !== '0') digits = `0${digits}`;
    else if (base === 16) digits = `${verb === 'X' ? '0X' : '0x'}${digits}`;
  }
  if (verb === 'O') digits = `0o${digits}`;
  if (negative) digits = `-${digits}`;
  else if (f.plus) digits = `+${digits}`;
  else if (f.space) digits = ` ${digits}`;
  return pad(digits, f, false);
}

function fmtUnicode(v: bigint, f: Flags): string {
  let s = `U+${(v < 0n ? v + (1n << 64n) : v).toString(16).toUpperCase().padStart(f.precPresent && f.prec > 4 ? f.prec : 4, '0')}`;
  if (f.sharp && v >= 0n && v <= 0x10ffffn && isPrint(Number(v))) s += ` '${String.fromCodePoint(Number(v))}'`;
  return pad(s, f, false);
}

/** math/big's Int.Format. */
function fmtBig(v: bigint, verb: string, f: Flags): string {
  const bases: Record<string, number> = { b: 2, o: 8, O: 8, d: 10, s: 10, v: 10, x: 16, X: 16 };
  const base = bases[verb];
  if (!base) return `%!${verb}(big.Int=${v})`;
  const sign = v < 0n ? '-' : f.plus || f.plusV ? '+' : f.space ? ' ' : '';
  let prefix = '';
  if (f.sharp || f.sharpV) prefix = { b: '0b', o: '0', x: '0x', X: '0X' }[verb] ?? '';
  if (verb === 'O') prefix = '0o';
  let digits = (v < 0n ? -v : v).toString(base);
  if (verb === 'X') digits = digits.toUpperCase();
  let zeros = 0;
  if (f.precPresent) {
    if (digits.length < f.prec) zeros = f.prec - digits.length;
    else if (digits === '0' && f.prec === 0) return '';
  }
  const length = sign.length + prefix.length + zeros + digits.length;
  let left = 0;
  let right = 0;
  if (f.widPresent && length < f.wid) {
    const d = f.wid - length;
    if (f.minus) right = d;
    else if (f.zero && !f.precPresent) zeros = d;
    else left = d;
  }
  return ' '.repeat(left) + sign + prefix + '0'.repeat(zeros) + digits + ' '.repeat(right);
}

function fmtFloat(v: number, fmt: string, defaultPrec: number, f: Flags, verb: string): string {
  const prec = f.precPresent ? f.prec : defaultPrec;
  let num = formatFloat(v, fmt, prec);
  if (num[0] !== '-' && num[0] !== '+') num = `+${num}`;
  if (f.space && num[0] === '+' && !f.plus) num = ` ${num.slice(1)}`;
  if (num[1] === 'I' || num[1] === 'N') {
    if (num[1] === 'N' && !f.space && !f.plus) num = num.slice(1);
    return pad(num, f, false);
  }
  if (f.sharp && fmt !== 'b') {
    let digits = 0;
    if (verb === 'v' || fmt === 'g' || fmt === 'G' || fmt === 'x' || fmt === 'X') digits = prec === -1 ? 6 : prec;
    let tail = '';
    let body = num;
    const cut = /[eEpP]/.exec(num.slice(1));
    if (cut && !((fmt === 'x' || fmt === 'X') && /[eE]/.test(cut[0]))) {
      body = num.slice(0, cut.index + 1);
      tail = num.slice(cut.index + 1);
    }
    let hasPoint = false;
    let sawNonzero = false;
    for (let i = 1; i < body.length; i++) {
      const c = body[i] as string;
      if (c === '.') hasPoint = true;
      else {
        if (c !== '0') sawNonzero = true;
        if (sawNonzero) digits--;
      }
    }
    if (!hasPoint) {
      if (body.length === 2 && body[1] === '0') digits--;
      body += '.';
    }
    while (digits > 0) {
      body += '0';
      digits--;
    }
    num = body + tail;
  }
  if (f.plus || num[0] !== '+') {
    if (f.zero && !f.minus && f.widPresent && f.wid > num.length) return num[0] + '0'.repeat(f.wid - num.length) + num.slice(1);
    return pad(num, f, false);
  }
  return pad(num.slice(1), f, true);
}

function truncate(s: string, f: Flags): string {
  if (!f.precPresent) return s;
  const runes = [...s];
  return runes.length > f.prec ? runes.slice(0, f.prec).join('') : s;
}

function fmtS(s: string, f: Flags): string {
  return pad(truncate(s, f), f);
}

function fmtSx(s: string, f: Flags, upper: boolean): string {
  let bytes = Buffer.from(s);
  if (f.precPresent && f.prec < bytes.length) bytes = bytes.subarray(0, f.prec);
  const hex = upper ? 'X' : 'x';
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    if (f.space && i > 0) out += ' ';
    if (f.sharp && (f.space || i === 0)) out += `0${hex}`;
    const h = (bytes[i] as number).toString(16).padStart(2, '0');
    out += upper ? h.toUpperCase() : h;
  }
  return pad(out, f);
}

function fmtQ(s: string, f: Flags): string {
  s = truncate(s, f);
  if (f.sharp && canBackquote(s)) return pad(`\`${s}\``, f);
  return pad(f.plus ? goQuoteAscii(s) : goQuoteString(s), f);
}

function canBackquote(s: string): boolean {
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if (c === 0xfeff) return false;
    if (ch === '`' || c === 0x7f || (c < 0x20 && c !== 0x09) || ch === '\uFFFD') return false;
  }
  return true;
}

