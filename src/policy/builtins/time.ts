import { RawNumber, integer } from '../value/raw-number.js';
import { BuiltinError, int, str, typeName, type Builtin } from './builtin.js';
import { daysFromCivil, formatLayout, parseLayout, type Fields } from './go-time.js';

/** Go's time.ParseDuration, with OPA's extra units d (24h), w (7d) and y (365d): nanoseconds. */
export function goDuration(s: string): bigint {
  const invalid = () => new BuiltinError(`time: invalid duration ${JSON.stringify(s)}`);
  if (s === '') throw invalid();
  let rest = s;
  let neg = false;
  if (rest[0] === '-' || rest[0] === '+') {
    neg = rest[0] === '-';
    rest = rest.slice(1);
  }
  if (rest === '0') return 0n;
  if (rest === '') throw invalid();
  const UNITS: Record<string, bigint> = { ns: 1n, us: 1000n, 'µs': 1000n, 'μs': 1000n, ms: 1000000n, s: 1000000000n, m: 60000000000n, h: 3600000000000n, d: 86400000000000n, w: 604800000000000n, y: 31536000000000000n };
  let total = 0n;
  while (rest !== '') {
    const m = /^([0-9]*)(?:\.([0-9]*))?([a-zµμ]+)/.exec(rest);
    if (!m || (m[1] === '' && (m[2] ?? '') === '') || (m[1] === '' && m[2] === undefined)) throw invalid();
    const unit = UNITS[m[3] as string];
    if (unit === undefined) throw new BuiltinError(`time: unknown unit ${JSON.stringify(m[3])} in duration ${JSON.stringify(s)}`);
    const whole = BigInt(m[1] || '0');
    const frac = m[2] ?? '';
    let v = whole * unit;
    if (frac !== '') v += (BigInt(frac) * unit) / 10n ** BigInt(frac.length);
    total += v;
    if (total > 9223372036854775807n) throw invalid();
    rest = rest.slice(m[0].length);
  }
  return neg ? -total : total;
}

const NAMED_LAYOUTS: Record<string, string> = {
  ANSIC: 'Mon Jan _2 15:04:05 2006',
  UnixDate: 'Mon Jan _2 15:04:05 MST 2006',
  RubyDate: 'Mon Jan 02 15:04:05 -0700 2006',
  RFC822: '02 Jan 06 15:04 MST',
  RFC822Z: '02 Jan 06 15:04 -0700',
  RFC850: 'Monday, 02-Jan-06 15:04:05 MST',
  RFC1123: 'Mon, 02 Jan 2006 15:04:05 MST',
  RFC1123Z: 'Mon, 02 Jan 2006 15:04:05 -0700',
  RFC3339: '2006-01-02T15:04:05Z07:00',
  RFC3339Nano: '2006-01-02T15:04:05.999999999Z07:00',
};

const MIN_NS = -9223372036854775808n;
const MAX_NS = 9223372036854775807n;

function safe(ns: bigint): number | RawNumber {
  if (ns < MIN_NS || ns > MAX_NS) throw new BuiltinError('time outside of valid range');
  return integer(ns);
}

/** A time operand as OPA's tzTime reads it: ns, or [ns, zone] or [ns, zone, layout]. */
function tzTime(v: unknown): { ns: bigint; zone: string; layout: string } {
  let n: unknown = v;
  let zone = 'UTC';
  let layout = '';
  if (Array.isArray(v)) {
    if (v.length === 0) throw new BuiltinError('operand 1 must be either number (ns) or [number (ns), string (tz)]');
    n = v[0];
    if (v.length > 1) {
      if (typeof v[1] !== 'string') throw new BuiltinError('operand 1 must be string');
      zone = v[1] === '' ? 'UTC' : v[1];
    }
    if (v.length > 2) {
      if (typeof v[2] !== 'string') throw new BuiltinError('operand 1 must be string');
      layout = v[2];
    }
  } else if (typeName(v) !== 'number') throw new BuiltinError('operand 1 must be either number (ns) or [number (ns), string (tz)]');
  if (typeName(n) !== 'number') throw new BuiltinError('operand 1 must be number');
  const text = n instanceof RawNumber ? n.text : JSON.stringify(n);
  let ns: bigint;
  if (/^-?\d+$/.test(text)) ns = BigInt(text);
  else {
    const f = Number(text);
    if (!Number.isInteger(f)) throw new BuiltinError('timestamp too big');
    ns = BigInt(f);
  }
  if (ns < MIN_NS || ns > MAX_NS) throw new BuiltinError('timestamp too big');
  if (zone === 'Local') zone = 'UTC';
  return { ns, zone, layout };
}

function fields(t: { ns: bigint; zone: string }): Fields {
  return civil(t.ns, t.zone);
}

/** The civil date and time of an instant in a zone (IANA name, or UTC). */
export function civil(ns: bigint, zone: string): Fields {
  const ms = Number(ns / 1000000n) - (ns % 1000000n < 0n ? 1 : 0);
  const nanos = Number(((ns % 1000000000n) + 1000000000n) % 1000000000n);
  const { offset, abbreviation } = zoneAt(ms, zone);
  const d = new Date(ms + offset * 1000);
  const year = d.getUTCFullYear();
  const start = Date.UTC(year, 0, 1);
  const yday = Math.floor((Date.UTC(year, d.getUTCMonth(), d.getUTCDate()) - start) / 86400000) + 1;
  return { year, month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds(), nanos, weekday: d.getUTCDay(), yday, offset, zone: abbreviation };
}

const zoneFormats = new Map<string, Intl.DateTimeFormat>();

/** The UTC offset (seconds) and abbreviation of a zone at an instant, from the IANA database Node carries. */
function zoneAt(ms: number, zone: string): { offset: number; abbreviation: string } {
  if (zone === 'UTC') return { offset: 0, abbreviation: 'UTC' };
  let f = zoneFormats.get(zone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset', year: 'numeric' });
    } catch {
      throw new BuiltinError(`unknown time zone ${zone}`);
    }
    zoneFormats.set(zone, f);
  }
  const name = f.formatToParts(new Date(ms)).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const m = /GMT([+-])(\d\d):(\d\d)(?::(\d\d))?/.exec(name);
  const offset = m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4] ?? 0)) : 0;
  const short = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'short' }).formatToParts(new Date(ms)).find((p) => p.type === 'timeZoneName')?.value ?? '';
  // Go prints the zone's abbreviation; where the database has none, Go prints the offset (-03, +0530).
  const abbreviation = /^[A-Z]{3,5}$/.test(short) ? short : offsetName(offset);
  return { offset, abbreviation };
}

function offsetName(offset: number): string {
  const sign = offset < 0 ? '-' : '+';
  const a = Math.abs(offset);
  const h = String(Math.floor(a / 3600)).padStart(2, '0');
  const m = Math.floor((a % 3600) / 60);
  return `${sign}${h}${m ? String(m).padStart(2, '0') : ''}`;
}

/** Nanoseconds since the epoch of a civil date-time in UTC, normalizing overflowing fields as Go's time.Date does. */
export function dateNanos(year: number, month: number, day: number, hour: number, minute: number, second: number, nanos: number, offset: number): bigint {
  const days = BigInt(daysFromCivil(year, month, day));
  return (days * 86400n + BigInt(hour * 3600 + minute * 60 + second - offset)) * 1000000000n + BigInt(nanos);
}

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

export const timeBuiltins: Record<string, Builtin> = {
  // One value per evaluation, as OPA: every call in one decision sees the same instant.
  'time.now_ns': (_args, evaluation) => integer(evaluation.now()),
  'time.parse_rfc3339_ns': (args) => safe(parseLayout(NAMED_LAYOUTS.RFC3339 as string, str(args, 0))),
  'time.parse_ns': (args) => {
    const layout = str(args, 0);
    return safe(parseLayout(NAMED_LAYOUTS[layout] ?? layout, str(args, 1)));
  },
  'time.parse_duration_ns': (args) => integer(goDuration(str(args, 0))),
  'time.date': (args) => {
    const f = fields(tzTime(args[0]));
    return [f.year, f.month, f.day];
  },
  'time.clock': (args) => {
    const f = fields(tzTime(args[0]));
    return [f.hour, f.minute, f.second];
  },
  'time.weekday': (args) => WEEKDAYS[fields(tzTime(args[0])).weekday],
  'time.format': (args) => {
    const t = tzTime(args[0]);
    const layout = t.layout === '' ? (NAMED_LAYOUTS.RFC3339Nano as string) : (NAMED_LAYOUTS[t.layout] ?? t.layout);
    return formatLayout(layout, fields(t));
  },
  'time.add_date': (args) => {
    const t = tzTime(args[0]);
    const years = int(args, 1);
    const months = int(args, 2);
    const days = int(args, 3);
    const f = fields(t);
    const at = (offset: number) => dateNanos(f.year + years, f.month + months, f.day + days, f.hour, f.minute, f.second, f.nanos, offset);
    // The zone's offset at the new date, which daylight saving time may have changed.
    const first = at(f.offset);
    return safe(at(civil(first, t.zone).offset));
  },
  'time.diff': (args) => {
    const a = tzTime(args[0]);
    const b = tzTime(args[1]);
    const zone = a.zone;
    let t1 = civil(a.ns, zone);
    let t2 = civil(b.ns, zone);
    if (a.ns > b.ns) [t1, t2] = [t2, t1];
    let year = t2.year - t1.year;
    let month = t2.month - t1.month;
    let day = t2.day - t1.day;
    let hour = t2.hour - t1.hour;
    let min = t2.minute - t1.minute;
    let sec = t2.second - t1.second;
    if (sec < 0) {
      sec += 60;
      min--;
    }
    if (min < 0) {
      min += 60;
      hour--;
    }
    if (hour < 0) {
      hour += 24;
      day--;
    }
    if (day < 0) {
      // Days in t1's month: day 32 of it, normalized, says how many it overshoots.
      const overshoot = new Date(Date.UTC(t1.year, t1.month - 1, 32)).getUTCDate();
      day += 32 - overshoot;
      month--;
    }
    if (month < 0) {
      month += 12;
      year--;
    }
    return [year, month, day, hour, min, sec];
  },
};
