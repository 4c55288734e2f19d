// The net.cidr_* builtins OPA leaves to the host, as OPA's topdown/cidr.go and internal/cidr/merge compute
// them on Go's net.IP (src/policy/value/go-ip.ts), quirks included: net.cidr_merge keeps a lone IPv4
// address with its class mask and unmasked ("10.1.2.3" becomes "10.1.2.3/8"), as OPA does.
import { RegoSet } from '../value/exact.js';
import {
  bigToBytes,
  bytesToBig,
  cidrMask,
  compareBytes,
  contains,
  defaultMask,
  equalIP,
  maskIP,
  maskSize,
  netString,
  ipString,
  parseCIDR,
  parseIP,
  to4,
  type IP,
  type IPNet,
} from '../value/go-ip.js';
import { BuiltinError, str, typeName, type Builtin } from './builtin.js';

function network(v: unknown, operand: number): IPNet {
  if (typeof v !== 'string') throw new BuiltinError(`operand ${operand} must be string but got ${typeName(v)}`);
  const n = parseCIDR(v);
  if (!n) throw new BuiltinError(`invalid CIDR address: ${v}`);
  return n;
}

function isPlainIPv6Net(n: IPNet): boolean {
  return n.ip.length === 16 && n.mask.length === 16 && to4(n.ip) === undefined;
}

function lastIP(n: IPNet): IP {
  const [ones, bits] = maskSize(n.mask);
  if (ones === 0 && bits === 0) throw new BuiltinError('CIDR mask is in non-standard format');
  if (ones === bits) return n.ip;
  const last = bytesToBig(n.ip) | ((1n << BigInt(bits - ones)) - 1n);
  const out = new Uint8Array(bits / 8);
  const b = bigToBytes(last);
  out.set(b.subarray(Math.max(0, b.length - out.length)), out.length - Math.min(b.length, out.length));
  return out;
}

/** OPA's builtinNetCIDRContains: b is an IP or a CIDR. */
function cidrContains(a: unknown, b: unknown): boolean {
  const netA = network(a, 1);
  if (typeof b !== 'string') throw new BuiltinError(`operand 1 must be string but got ${typeName(b)}`);
  const ip = parseIP(b);
  if (ip) return contains(netA, ip);
  const netB = parseCIDR(b);
  if (!netB) throw new BuiltinError(`not a valid textual representation of an IP address or CIDR: ${b}`);
  if (isPlainIPv6Net(netA) && isPlainIPv6Net(netB)) {
    const [aOnes] = maskSize(netA.mask);
    const [bOnes] = maskSize(netB.mask);
    const masked = maskIP(netB.ip, netA.mask);
    return aOnes <= bOnes && masked !== undefined && equalIP(netA.ip, masked);
  }
  return contains(netA, netB.ip) && contains(netA, lastIP(netB));
}

/** The (cidr, index) pairs of a net.cidr_contains_matches operand. */
function matchTerms(v: unknown, operand: number): Array<[unknown, unknown]> {
  const cidrOf = (x: unknown): unknown => {
    if (typeof x === 'string') return x;
    if (Array.isArray(x) && x.length > 0) return x[0];
    throw new BuiltinError(`operand ${operand}: element must be string or non-empty array`);
  };
  if (typeof v === 'string') return [[v, v]];
  if (Array.isArray(v)) return v.map((x, i) => [cidrOf(x), i]);
  if (v instanceof RegoSet) return v.items.map((x) => [cidrOf(x), x]);
  if (typeName(v) === 'object') return Object.entries(v as Record<string, unknown>).map(([k, x]) => [cidrOf(x), k]);
  return [];
}

function containsMatches(args: unknown[]): RegoSet {
  const out: unknown[] = [];
  for (const [cidr1, index1] of matchTerms(args[0], 1)) {
    for (const [cidr2, index2] of matchTerms(args[1], 2)) {
      if (cidrContains(cidr1, cidr2)) out.push([index1, index2]);
    }
  }
  return new RegoSet(out);
}

function expand(args: unknown[]): RegoSet {
  const s = str(args, 0);
  const n = parseCIDR(s);
  if (!n) throw new BuiltinError(`invalid CIDR address: ${s}`);
  const [ones, bits] = maskSize(n.mask);
  // The whole set is built in memory, as OPA builds it; past this many addresses that is not a decision.
  if (bits - ones > 16) throw new BuiltinError(`net.cidr_expand: ${s} has more addresses than Portcullis expands (2^16)`);
  const first = bytesToBig(n.ip);
  const out: string[] = [];
  for (let i = 0n; i < 1n << BigInt(bits - ones); i++) {
    const b = bigToBytes(first + i);
    const ip = new Uint8Array(n.ip.length);
    ip.set(b, ip.length - b.length);
    out.push(ipString(ip));
  }
  return new RegoSet(out);
}

// -- net.cidr_merge: OPA's port of netaddr's algorithm, on 16-byte ranges.

const V4_PREFIX = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff);
const DEFAULT_V4 = Uint8Array.of(...V4_PREFIX, 0, 0, 0, 0);
const DEFAULT_V6 = new Uint8Array(16);
const UPPER_V4 = Uint8Array.of(...V4_PREFIX, 255, 255, 255, 255);
const UPPER_V6 = new Uint8Array(16).fill(0xff);
const V4_LEADING_ZEROES = new Uint8Array(10);

interface Range {
  first: IP;
  last: IP;
  network?: IPNet;
}

function concat(a: Uint8Array, b: Uint8Array): IP {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function addressRange(n: IPNet): [IP, IP] {
  const masked = maskIP(n.ip, n.mask);
  // OPA's Go panics here (an IPv6 range whose spanning network has leading zero bytes, ::1:0/112 merged from
  // its halves); a decision cannot crash, so the call is undefined instead.
  if (!masked) throw new BuiltinError('net.cidr_merge: a merged range OPA cannot compute either');
  let first: IP = masked;
  let last: IP = first.slice();
  if (to4(first)) {
    first = concat(V4_PREFIX, first);
    last = concat(V4_PREFIX, last);
  }
  for (let i = 0; i < n.mask.length; i++) {
    const inverted = ~(n.mask[n.mask.length - i - 1] as number) & 0xff;
    last[16 - i - 1] = (last[16 - i - 1] as number) | inverted;
  }
  return [first, last];
}

function previousIP(ip: IP): IP {
  if (equalIP(ip, DEFAULT_V4) || equalIP(ip, DEFAULT_V6)) return ip;
  const prev = ip.slice();
  let overflow = false;
  const lower = to4(ip) ? 12 : 0;
  for (let i = ip.length - 1; i >= lower; i--) {
    if (overflow || i === ip.length - 1) prev[i] = ((prev[i] as number) - 1) & 0xff;
    overflow = ip[i] === 0 && prev[i] === 255;
  }
  return prev;
}

function nextIP(ip: IP): IP {
  if (equalIP(ip, UPPER_V4) || equalIP(ip, UPPER_V6)) return ip;
  if (ip.length === 4) return bigToFixed((bytesToBig(ip) + 1n) & 0xffffffffn, 4);
  if (ip.length !== 16) return ip;
  // Two 64-bit halves, the carry into the upper half only when the lower one wraps.
  const low = (bytesToBig(ip.subarray(8)) + 1n) & 0xffffffffffffffffn;
  const high = low === 0n ? (bytesToBig(ip.subarray(0, 8)) + 1n) & 0xffffffffffffffffn : bytesToBig(ip.subarray(0, 8));
  return concat(bigToFixed(high, 8), bigToFixed(low, 8));
}

function bigToFixed(n: bigint, length: number): IP {
  const out = new Uint8Array(length);
  const b = bigToBytes(n);
  out.set(b, length - b.length);
  return out;
}

function spanningCIDR(first: IP, last: IP): IPNet {
  const isV4 = to4(first) !== undefined;
  const bitLen = isV4 ? 32 : 128;
  let size = bitLen;
  const lowest = bytesToBig(first);
  let highest = bytesToBig(last);
  while (size > 0 && lowest < highest) {
    size--;
    highest &= -(1n << BigInt(bitLen - size));
  }
  let ip: IP = isV4 ? concat(V4_LEADING_ZEROES, bigToBytes(highest)) : bigToBytes(highest);
  if (ip.length === 0) ip = new Uint8Array(bitLen / 8);
  return { ip, mask: cidrMask(size, bitLen) };
}

function partition(target: IPNet, exclude: IPNet): [IPNet[], IPNet[]] {
  const targetIsV4 = to4(target.ip) !== undefined;
  const [targetFirst, targetLast] = addressRange(target);
  const [excludeFirst, excludeLast] = addressRange(exclude);
  const [targetSize] = maskSize(target.mask);
  const [excludeSize] = maskSize(exclude.mask);
  if (compareBytes(excludeLast, targetFirst) < 0) return [[], [target]];
  if (compareBytes(targetLast, excludeFirst) < 0) return [[target], []];
  if (targetSize >= excludeSize) return [[], []];
  const left: IPNet[] = [];
  const right: IPNet[] = [];
  let prefix = targetSize + 1;
  let lower = bytesToBig(targetFirst);
  const bitLen = targetIsV4 ? 32 : 128;
  let upper = bytesToBig(targetFirst) + (1n << BigInt(bitLen - prefix));
  let matched = 0n;
  const bytesOf = (n: bigint) => (targetIsV4 ? concat(V4_LEADING_ZEROES, bigToBytes(n)) : bigToFixed(n, 16));
  while (excludeSize >= prefix) {
    const upperBytes = bytesOf(upper);
    const lowerBytes = bytesOf(lower);
    if (compareBytes(excludeFirst, upperBytes) >= 0) {
      left.push({ ip: lowerBytes, mask: cidrMask(prefix, bitLen) });
      matched = upper;
    } else {
      right.push({ ip: upperBytes, mask: cidrMask(prefix, bitLen) });
      matched = lower;
    }
    prefix++;
    if (prefix > bitLen) break;
    lower = matched;
    upper = matched + (1n << BigInt(bitLen - prefix));
  }
  return [left, right];
}

function rangeToCIDRs(first: IP, last: IP): IPNet[] {
  let spanning = spanningCIDR(first, last);
  const [spanFirst, spanLast] = addressRange(spanning);
  let list: IPNet[] = [];
  if (compareBytes(spanFirst, first) < 0) {
    const prev = previousIP(first);
    const bitLen = to4(prev) ? 32 : 128;
    const [, right] = partition(spanning, { ip: prev, mask: cidrMask(bitLen, bitLen) });
    list.push(...right);
    spanning = right[0] as IPNet;
    list = list.slice(1);
  }
  if (compareBytes(spanLast, last) > 0) {
    const next = nextIP(last);
    const bitLen = to4(next) ? 32 : 128;
    const [left] = partition(spanning, { ip: next, mask: cidrMask(bitLen, bitLen) });
    list.push(...left);
  } else list.push(spanning);
  return list;
}

function ipNetOf(v: unknown): IPNet {
  if (typeof v !== 'string') throw new BuiltinError('element must be string');
  const ip = parseIP(v);
  if (!ip) {
    const n = parseCIDR(v);
    if (!n) throw new BuiltinError(`invalid CIDR address: ${v}`);
    return n;
  }
  const mask = defaultMask(ip);
  if (!mask) throw new BuiltinError('IPv6 invalid: needs prefix length');
  return { ip, mask };
}

function merge(args: unknown[]): RegoSet {
  const v = args[0];
  const list = Array.isArray(v) ? v : v instanceof RegoSet ? v.items : undefined;
  if (!list) throw new BuiltinError('operand must be an array');
  const networks = list.map(ipNetOf);
  let ranges: Range[] = networks.map((network) => {
    const [first, last] = addressRange(network);
    return { first, last, network };
  });
  ranges.sort((a, b) => compareBytes(a.last, b.last) || compareBytes(a.first, b.first));
  for (let i = ranges.length - 1; i > 0; i--) {
    const current = ranges[i] as Range;
    const before = ranges[i - 1] as Range;
    if (compareBytes(previousIP(current.first), before.last) <= 0) {
      const first = compareBytes(before.first, current.first) < 0 ? before.first : current.first;
      ranges[i - 1] = { first: first.slice(), last: current.last.slice() };
      ranges = [...ranges.slice(0, i), ...ranges.slice(i + 1)];
    }
  }
  const out = new Set<string>();
  for (const r of ranges) {
    if (r.network) out.add(netString(r.network));
    else for (const n of rangeToCIDRs(r.first, r.last)) out.add(netString(n));
  }
  return new RegoSet([...out]);
}

export const netBuiltins: Record<string, Builtin> = {
  'net.cidr_is_valid': (args) => typeof args[0] === 'string' && parseCIDR(args[0]) !== undefined,
  'net.cidr_contains_matches': containsMatches,
  'net.cidr_expand': expand,
  'net.cidr_merge': merge,
};
