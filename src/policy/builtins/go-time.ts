import { BuiltinError } from './builtin.js';

/** A civil time with its zone, what Go's layouts print and read. */
export interface Fields {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  nanos: number;
  /** 0 = Sunday. */
  weekday: number;
  yday: number;
  /** Seconds east of UTC. */
  offset: number;
  zone: string;
}

type Chunk =
  | { kind: 'text'; text: string }
  | { kind: 'std'; std: string; digits?: number; sep?: string };

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** Go's nextStdChunk over a whole layout: the reference-time elements and the literal text between them. */
function chunks(layout: string): Chunk[] {
  const out: Chunk[] = [];
  let text = '';
  const push = (std: string, len: number, extra: Partial<Extract<Chunk, { kind: 'std' }>> = {}) => {
    if (text) out.push({ kind: 'text', text });
    text = '';
    out.push({ kind: 'std', std, ...extra });
    return len;
  };
  for (let i = 0; i < layout.length; ) {
    const s = layout.slice(i);
    const c = layout[i] as string;
    let n = 0;
    switch (c) {
      case 'J':
        if (s.startsWith('Jan')) n = s.startsWith('January') ? push('January', 7) : push('Jan', 3);
        break;
      case 'M':
        if (s.startsWith('Mon')) n = s.startsWith('Monday') ? push('Monday', 6) : push('Mon', 3);
        else if (s.startsWith('MST')) n = push('MST', 3);
        break;
      case '0':
        if (s.length >= 2 && /[1-6]/.test(s[1] as string)) n = push(`0${s[1]}`, 2);
        else if (s.startsWith('002')) n = push('002', 3);
        break;
      case '1':
        n = s.startsWith('15') ? push('15', 2) : push('1', 1);
        break;
      case '2':
        n = s.startsWith('2006') ? push('2006', 4) : push('2', 1);
        break;
      case '_':
        if (s.startsWith('_2')) {
          // _2006 is a literal underscore and a year.
          if (s.startsWith('_2006')) {
            text += '_';
            n = 1 + push('2006', 4);
          } else if (s.startsWith('__2')) n = push('__2', 3);
          else n = push('_2', 2);
        }
        break;
      case '3':
      case '4':
      case '5':
        n = push(c, 1);
        break;
      case 'P':
        if (s.startsWith('PM')) n = push('PM', 2);
        break;
      case 'p':
        if (s.startsWith('pm')) n = push('pm', 2);
        break;
      case '-':
        for (const std of ['-07:00:00', '-0700', '-07:00', '-070000', '-07']) {
          if (s.startsWith(std)) {
            n = push(std, std.length);
            break;
          }
        }
        break;
      case 'Z':
        for (const std of ['Z07:00:00', 'Z0700', 'Z07:00', 'Z070000', 'Z07']) {
          if (s.startsWith(std)) {
            n = push(std, std.length);
            break;
          }
        }
        break;
      case '.':
      case ',':
        if (s.length >= 2 && (s[1] === '0' || s[1] === '9') && i > 0 && /[0-9]/.test(layout[i - 1] as string)) {
          const digit = s[1] as string;
          let j = 1;
          while (j < s.length && s[j] === digit) j++;
          // A fractional second only when no digit follows the run.
          if (!/[0-9]/.test(s[j] ?? '')) n = push(digit === '0' ? 'frac0' : 'frac9', j, { digits: j - 1, sep: c });
        }
        break;
    }
    if (n > 0) i += n;
    else {
      text += c;
      i++;
    }
  }
  if (text) out.push({ kind: 'text', text });
  return out;
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** Go's Time.Format. */
export function formatLayout(layout: string, f: Fields): string {
  let out = '';
  for (const c of chunks(layout)) {
    if (c.kind === 'text') {
      out += c.text;
      continue;
    }
    switch (c.std) {
      case 'January':
        out += MONTHS[f.month - 1];
        break;
      case 'Jan':
        out += (MONTHS[f.month - 1] as string).slice(0, 3);
        break;
      case '1':
        out += f.month;
        break;
      case '01':
        out += pad(f.month, 2);
        break;
      case 'Monday':
        out += DAYS[f.weekday];
        break;
      case 'Mon':
        out += (DAYS[f.weekday] as string).slice(0, 3);
        break;
      case '2':
        out += f.day;
        break;
      case '_2':
        out += String(f.day).padStart(2, ' ');
        break;
      case '02':
        out += pad(f.day, 2);
        break;
      case '__2':
        out += String(f.yday).padStart(3, ' ');
        break;
      case '002':
        out += pad(f.yday, 3);
        break;
      case '15':
        out += pad(f.hour, 2);
        break;
      case '3':
        out += f.hour % 12 === 0 ? 12 : f.hour % 12;
        break;
      case '03':
        out += pad(f.hour % 12 === 0 ? 12 : f.hour % 12, 2);
        break;
      case '4':
        out += f.minute;
        break;
      case '04':
        out += pad(f.minute, 2);
        break;
      case '5':
        out += f.second;
        break;
      case '05':
        out += pad(f.second, 2);
        break;
      case '2006':
        out += f.year < 0 ? `-${pad(-f.year, 4)}` : pad(f.year, 4);
        break;
      case '06':
        out += pad(((f.year % 100) + 100) % 100, 2);
        break;
      case 'PM':
        out += f.hour >= 12 ? 'PM' : 'AM';
        break;
      case 'pm':
        out += f.hour >= 12 ? 'pm' : 'am';
        break;
      case 'MST':
        out += f.zone;
        break;
      case 'frac0':
      case 'frac9': {
        const digits = pad(f.nanos, 9).slice(0, c.digits);
        if (c.std === 'frac0') out += `${c.sep}${digits}`;
        else {
          const trimmed = digits.replace(/0+$/, '');
          if (trimmed) out += `${c.sep}${trimmed}`;
        }
        break;
      }
      default:
        out += formatZone(c.std, f.offset);
    }
  }
  return out;
}

function formatZone(std: string, offset: number): string {
  if (std.startsWith('Z') && offset === 0) return 'Z';
  const sign = offset < 0 ? '-' : '+';
  const a = Math.abs(offset);
  const h = pad(Math.floor(a / 3600), 2);
  const m = pad(Math.floor((a % 3600) / 60), 2);
  const s = pad(a % 60, 2);
  const spec = std.slice(1);
  switch (spec) {
    case '07':
      return `${sign}${h}`;
    case '0700':
      return `${sign}${h}${m}`;
    case '07:00':
      return `${sign}${h}:${m}`;
    case '070000':
      return `${sign}${h}${m}${s}`;
    default:
      return `${sign}${h}:${m}:${s}`;
  }
}

function parseError(layout: string, value: string, elem: string, rest: string, message = ''): BuiltinError {
  return new BuiltinError(`parsing time ${JSON.stringify(value)} as ${JSON.stringify(layout)}: cannot parse ${JSON.stringify(rest)} as ${JSON.stringify(elem)}${message}`);
}

/** Go's time.Parse in UTC: nanoseconds since the epoch, or a BuiltinError where Go returns one. */
export function parseLayout(layout: string, value: string): bigint {
  let rest = value;
  let year = 1;
  let month = -1;
  let day = -1;
  let yday = -1;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let nanos = 0;
  let pm = false;
  let pmSet = false;
  let offset: number | undefined;
  const num = (min: number, max: number, fixed?: number): number | undefined => {
    const m = fixed ? new RegExp(`^[0-9]{${fixed}}`).exec(rest) : /^[0-9]{1,2}/.exec(rest);
    if (!m) return undefined;
    const n = Number(m[0]);
    if (n < min || n > max) return undefined;
    rest = rest.slice(m[0].length);
    return n;
  };
  const list = chunks(layout);
  for (let ci = 0; ci < list.length; ci++) {
    const c = list[ci] as Chunk;
    if (c.kind === 'text') {
      if (!rest.startsWith(c.text)) throw parseError(layout, value, c.text, rest);
      rest = rest.slice(c.text.length);
      continue;
    }
    const before = rest;
    let ok = true;
    switch (c.std) {
      case '2006': {
        const m = /^[0-9]{4}/.exec(rest);
        if (!m) ok = false;
        else {
          year = Number(m[0]);
          rest = rest.slice(4);
        }
        break;
      }
      case '06': {
        const n = num(0, 99, 2);
        if (n === undefined) ok = false;
        else year = n >= 69 ? 1900 + n : 2000 + n;
        break;
      }
      case 'January':
      case 'Jan': {
        const list = c.std === 'January' ? MONTHS : MONTHS.map((x) => x.slice(0, 3));
        const i = list.findIndex((x) => rest.slice(0, x.length).toLowerCase() === x.toLowerCase());
        if (i < 0) ok = false;
        else {
          month = i + 1;
          rest = rest.slice((list[i] as string).length);
        }
        break;
      }
      case 'Monday':
      case 'Mon': {
        const list = c.std === 'Monday' ? DAYS : DAYS.map((x) => x.slice(0, 3));
        const i = list.findIndex((x) => rest.slice(0, x.length).toLowerCase() === x.toLowerCase());
        if (i < 0) ok = false;
        else rest = rest.slice((list[i] as string).length);
        break;
      }
      case '1':
      case '01': {
        const n = c.std === '01' ? num(1, 12, 2) : num(1, 12);
        if (n === undefined) ok = false;
        else month = n;
        break;
      }
      case '2':
      case '_2':
      case '02': {
        if (c.std === '_2' && rest[0] === ' ') rest = rest.slice(1);
        const n = c.std === '02' ? num(1, 31, 2) : num(1, 31);
        if (n === undefined) ok = false;
        else day = n;
        break;
      }
      case '__2':
      case '002': {
        if (c.std === '__2') rest = rest.replace(/^ {1,2}/, '');
        const m = c.std === '002' ? /^[0-9]{3}/.exec(rest) : /^[0-9]{1,3}/.exec(rest);
        if (!m || Number(m[0]) < 1 || Number(m[0]) > 366) ok = false;
        else {
          yday = Number(m[0]);
          rest = rest.slice(m[0].length);
        }
        break;
      }
      case '15': {
        const n = num(0, 23);
        if (n === undefined) ok = false;
        else hour = n;
        break;
      }
      case '3':
      case '03': {
        const n = c.std === '03' ? num(0, 12, 2) : num(0, 12);
        if (n === undefined) ok = false;
        else hour = n;
        break;
      }
      case '4':
      case '04': {
        const n = c.std === '04' ? num(0, 59, 2) : num(0, 59);
        if (n === undefined) ok = false;
        else minute = n;
        break;
      }
      case '5':
      case '05': {
        const n = c.std === '05' ? num(0, 59, 2) : num(0, 59);
        if (n === undefined) ok = false;
        else {
          second = n;
          // A fractional second after the seconds is read even when the layout has none.
          const frac = /^[.,]([0-9]+)/.exec(rest);
          const next = list[ci + 1];
          const layoutHasFraction = next?.kind === 'std' && next.std.startsWith('frac');
          if (frac && !layoutHasFraction) {
            nanos = Number((frac[1] as string).slice(0, 9).padEnd(9, '0'));
            rest = rest.slice(frac[0].length);
          }
        }
        break;
      }
      case 'PM':
      case 'pm': {
        const p = rest.slice(0, 2).toUpperCase();
        if (p !== 'AM' && p !== 'PM') ok = false;
        else {
          pm = p === 'PM';
          pmSet = true;
          rest = rest.slice(2);
        }
        break;
      }
      case 'frac0': {
        const m = new RegExp(`^[.,][0-9]{${c.digits}}`).exec(rest);
        if (!m) ok = false;
        else {
          nanos = Number(m[0].slice(1).padEnd(9, '0').slice(0, 9));
          rest = rest.slice(m[0].length);
        }
        break;
      }
      case 'frac9': {
        const m = /^[.,]([0-9]+)/.exec(rest);
        if (m) {
          nanos = Number((m[1] as string).slice(0, 9).padEnd(9, '0'));
          rest = rest.slice(m[0].length);
        }
        break;
      }
      case 'MST': {
        const m = /^(UTC|GMT([+-][0-9]{1,2})?|[A-Z]{3,5}T?)/.exec(rest);
        if (!m) ok = false;
        else {
          rest = rest.slice(m[0].length);
          offset ??= 0;
        }
        break;
      }
      default: {
        if (c.std.startsWith('Z') && rest[0] === 'Z') {
          rest = rest.slice(1);
          offset = 0;
          break;
        }
        const spec = c.std.slice(1);
        const re = { '07': /^([+-])([0-9]{2})/, '0700': /^([+-])([0-9]{2})([0-9]{2})/, '07:00': /^([+-])([0-9]{2}):([0-9]{2})/, '070000': /^([+-])([0-9]{2})([0-9]{2})([0-9]{2})/, '07:00:00': /^([+-])([0-9]{2}):([0-9]{2}):([0-9]{2})/ }[spec];
        const m = re?.exec(rest);
        if (!m) ok = false;
        else {
          const h = Number(m[2]);
          const mi = Number(m[3] ?? 0);
          const s = Number(m[4] ?? 0);
          if (h > 24 || mi > 59 || s > 59) throw new BuiltinError(`parsing time ${JSON.stringify(value)}: time zone offset out of range`);
          offset = (m[1] === '-' ? -1 : 1) * (h * 3600 + mi * 60 + s);
          rest = rest.slice(m[0].length);
        }
      }
    }
    if (!ok) throw parseError(layout, value, c.std.startsWith('frac') ? `${c.sep}${(c.std === 'frac0' ? '0' : '9').repeat(c.digits ?? 1)}` : c.std, before);
  }
  if (rest !== '') throw new BuiltinError(`parsing time ${JSON.stringify(value)}: extra text: ${JSON.stringify(rest)}`);
  if (pmSet) {
    if (hour > 12) throw new BuiltinError(`parsing time ${JSON.stringify(value)}: hour out of range`);
    if (pm && hour < 12) hour += 12;
    else if (!pm && hour === 12) hour = 0;
  }
  if (yday >= 0) {
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    if (yday > (leap ? 366 : 365)) throw new BuiltinError(`parsing time ${JSON.stringify(value)}: day-of-year out of range`);
    const d = new Date(Date.UTC(year, 0, yday));
    if (month >= 0 && month !== d.getUTCMonth() + 1) throw new BuiltinError(`parsing time ${JSON.stringify(value)}: day-of-year does not match month`);
    if (day >= 0 && day !== d.getUTCDate()) throw new BuiltinError(`parsing time ${JSON.stringify(value)}: day-of-year does not match day`);
    month = d.getUTCMonth() + 1;
    day = d.getUTCDate();
  } else {
    if (month < 0) month = 1;
    if (day < 0) day = 1;
  }
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const inMonth = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] as number;
  if (day > inMonth) throw new BuiltinError(`parsing time ${JSON.stringify(value)}: day out of range`);
  const days = BigInt(daysFromCivil(year, month, day));
  return (days * 86400n + BigInt(hour * 3600 + minute * 60 + second - (offset ?? 0))) * 1000000000n + BigInt(nanos);
}

/** Days since 1970-01-01 for a proleptic Gregorian date; months and days outside their range carry over, as in Go's time.Date. */
export function daysFromCivil(y: number, m: number, d: number): number {
  y += Math.floor((m - 1) / 12);
  m = ((((m - 1) % 12) + 12) % 12) + 1;
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const mp = (m + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5);
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468 + (d - 1);
}
