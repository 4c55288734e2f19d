// Go's net.IP and net.IPNet as OPA's net.cidr_* builtins use them: IPs are byte slices of 4 or 16 bytes
// (an IPv4 address parsed as an IP is 16 bytes, IPv4-mapped), networks keep the IP they were given, and
// the text forms are Go's. Written after Go 1.26's net and net/netip.

export type IP = Uint8Array;
export interface IPNet {
  ip: IP;
  mask: IP;
}

const V4_IN_V6 = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff);

/** netip.ParseAddr as 16 bytes (net's parseIP): undefined for anything else, a zone included. */
export function parseIP(s: string): IP | undefined {
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '.') return parseIPv4Fields(s, 0, s.length, new Uint8Array(4)) ? mapped(parseIPv4(s) as IP) : undefined;
    if (c === ':') return parseIPv6(s);
    if (c === '%') return undefined;
  }
  return undefined;
}

function parseIPv4(s: string): IP | undefined {
  const fields = new Uint8Array(4);
  return parseIPv4Fields(s, 0, s.length, fields) ? fields : undefined;
}

/** netip's parseIPv4Fields: four decimal octets, no leading zeros, each at most 255. */
function parseIPv4Fields(s: string, off: number, end: number, fields: Uint8Array, at = 0): boolean {
  let val = 0;
  let pos = 0;
  let digits = 0;
  const part = s.slice(off, end);
  for (let i = 0; i < part.length; i++) {
    const c = part.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) {
      if (digits === 1 && val === 0) return false;
      val = val * 10 + (c - 0x30);
      digits++;
      if (val > 255) return false;
    } else if (c === 0x2e) {
      if (i === 0 || i === part.length - 1 || part[i - 1] === '.') return false;
      if (pos === 3) return false;
      fields[at + pos++] = val;
      val = 0;
      digits = 0;
    } else return false;
  }
  if (pos < 3) return false;
  fields[at + 3] = val;
  return true;
}

/** netip's parseIPv6, refusing a zone as net.ParseIP and net.ParseCIDR do. */
function parseIPv6(input: string): IP | undefined {
  if (input.includes('%')) return undefined;
  let s = input;
  const ip = new Uint8Array(16);
  let ellipsis = -1;
  if (s.length >= 2 && s[0] === ':' && s[1] === ':') {
    ellipsis = 0;
    s = s.slice(2);
    if (s.length === 0) return ip;
  }
  let i = 0;
  while (i < 16) {
    let off = 0;
    let acc = 0;
    for (; off < s.length; off++) {
      const d = parseInt(s[off] as string, 16);
      if (Number.isNaN(d)) break;
      acc = acc * 16 + d;
      if (off > 3 || acc > 0xffff) return undefined;
    }
    if (off === 0) return undefined;
    if (off < s.length && s[off] === '.') {
      if ((ellipsis < 0 && i !== 12) || i + 4 > 16) return undefined;
      if (!parseIPv4Fields(input, input.length - s.length, input.length, ip, i)) return undefined;
      s = '';
      i += 4;
      break;
    }
    ip[i] = acc >> 8;
    ip[i + 1] = acc & 0xff;
    i += 2;
    s = s.slice(off);
    if (s.length === 0) break;
    if (s[0] !== ':' || s.length === 1) return undefined;
    s = s.slice(1);
    if (s[0] === ':') {
      if (ellipsis >= 0) return undefined;
      ellipsis = i;
      s = s.slice(1);
      if (s.length === 0) break;
    }
  }
  if (s.length !== 0) return undefined;
  if (i < 16) {
    if (ellipsis < 0) return undefined;
    const n = 16 - i;
    for (let j = i - 1; j >= ellipsis; j--) ip[j + n] = ip[j] as number;
    ip.fill(0, ellipsis, ellipsis + n);
  } else if (ellipsis >= 0) return undefined;
  return ip;
}

function mapped(v4: IP): IP {
  const ip = new Uint8Array(16);
  ip.set(V4_IN_V6);
  ip.set(v4, 12);
  return ip;
}

/** net.ParseCIDR's network (the IP masked); undefined where Go returns an error. */
export function parseCIDR(s: string): IPNet | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const addr = s.slice(0, slash);
  const bitsText = s.slice(slash + 1);
  let is4 = false;
  let ip: IP | undefined;
  for (const c of addr) {
    if (c === '.') {
      ip = parseIPv4(addr);
      is4 = true;
      break;
    }
    if (c === ':') {
      ip = parseIPv6(addr);
      break;
    }
    if (c === '%') break;
  }
  if (!ip) return undefined;
  // dtoi: decimal digits (leading zeros allowed), all of the text.
  if (!/^[0-9]+$/.test(bitsText)) return undefined;
  const ones = Number(bitsText);
  const bits = is4 ? 32 : 128;
  if (ones > bits) return undefined;
  const mask = cidrMask(ones, bits);
  return { ip: maskIP(is4 ? mapped(ip) : ip, mask) as IP, mask };
}

/** net.CIDRMask. */
export function cidrMask(ones: number, bits: number): IP {
  const m = new Uint8Array(bits / 8);
  let n = ones;
  for (let i = 0; i < m.length; i++) {
    if (n >= 8) {
      m[i] = 0xff;
      n -= 8;
    } else {
      m[i] = ~(0xff >> n) & 0xff;
      n = 0;
    }
  }
  return m;
}

/** net.IP.To4. */
export function to4(ip: IP): IP | undefined {
  if (ip.length === 4) return ip;
  if (ip.length === 16 && ip.subarray(0, 10).every((b) => b === 0) && ip[10] === 0xff && ip[11] === 0xff) return ip.subarray(12);
  return undefined;
}

/** net.IP.Mask: undefined where Go returns nil. */
export function maskIP(ip: IP, mask: IP): IP | undefined {
  let m = mask;
  let a = ip;
  if (m.length === 16 && a.length === 4 && m.subarray(0, 12).every((b) => b === 0xff)) m = m.subarray(12);
  if (m.length === 4 && a.length === 16 && equalBytes(a.subarray(0, 12), V4_IN_V6)) a = a.subarray(12);
  if (a.length !== m.length) return undefined;
  return a.map((b, i) => b & (m[i] as number));
}

/** net.IP.DefaultMask: the class mask of an IPv4 address. */
export function defaultMask(ip: IP): IP | undefined {
  const v4 = to4(ip);
  if (!v4) return undefined;
  const first = v4[0] as number;
  return cidrMask(first < 0x80 ? 8 : first < 0xc0 ? 16 : 24, 32);
}

/** net.IP.Equal. */
export function equalIP(a: IP, b: IP): boolean {
  if (a.length === b.length) return equalBytes(a, b);
  if (a.length === 4 && b.length === 16) return equalBytes(b.subarray(0, 12), V4_IN_V6) && equalBytes(a, b.subarray(12));
  if (a.length === 16 && b.length === 4) return equalBytes(a.subarray(0, 12), V4_IN_V6) && equalBytes(a.subarray(12), b);
  return false;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** bytes.Compare. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return (a[i] as number) < (b[i] as number) ? -1 : 1;
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

function networkNumberAndMask(n: IPNet): [IP, IP] | undefined {
  let ip = to4(n.ip);
  if (!ip) {
    ip = n.ip;
    if (ip.length !== 16) return undefined;
  }
  let m = n.mask;
  if (m.length === 4) {
    if (ip.length !== 4) return undefined;
  } else if (m.length === 16) {
    if (ip.length === 4) m = m.subarray(12);
  } else return undefined;
  return [ip, m];
}

/** net.IPNet.Contains. */
export function contains(n: IPNet, address: IP): boolean {
  const nm = networkNumberAndMask(n);
  if (!nm) return false;
  const [nn, m] = nm;
  const ip = to4(address) ?? address;
  if (ip.length !== nn.length) return false;
  for (let i = 0; i < ip.length; i++) if (((nn[i] as number) & (m[i] as number)) !== ((ip[i] as number) & (m[i] as number))) return false;
  return true;
}

/** net.IPMask.Size: [ones, bits], [0, 0] for a mask that is not ones then zeros. */
export function maskSize(mask: IP): [number, number] {
  const ones = simpleMaskLength(mask);
  return ones < 0 ? [0, 0] : [ones, mask.length * 8];
}

function simpleMaskLength(mask: IP): number {
  let n = 0;
  for (let i = 0; i < mask.length; i++) {
    let v = mask[i] as number;
    if (v === 0xff) {
      n += 8;
      continue;
    }
    while (v & 0x80) {
      n++;
      v = (v << 1) & 0xff;
    }
    if (v !== 0) return -1;
    for (i++; i < mask.length; i++) if (mask[i] !== 0) return -1;
    break;
  }
  return n;
}

/** net.IP.String. */
export function ipString(ip: IP): string {
  if (ip.length === 0) return '<nil>';
  const v4 = to4(ip);
  if (v4) return [...v4].join('.');
  if (ip.length !== 16) return `?${Buffer.from(ip).toString('hex')}`;
  const group = (i: number) => ((ip[2 * i] as number) << 8) | (ip[2 * i + 1] as number);
  // The longest run of two or more zero groups, the first of equals, is written "::".
  let zeroStart = -1;
  let zeroLength = 0;
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && group(j) === 0) j++;
    if (j - i >= 2 && j - i > zeroLength) {
      zeroStart = i;
      zeroLength = j - i;
    }
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === zeroStart) {
      out += '::';
      i += zeroLength;
      if (i >= 8) break;
    } else if (i > 0) out += ':';
    out += group(i).toString(16);
  }
  return out;
}

/** net.IPNet.String. */
export function netString(n: IPNet): string {
  const nm = networkNumberAndMask(n);
  if (!nm) return '<nil>';
  const [nn, m] = nm;
  const l = simpleMaskLength(m);
  return l < 0 ? `${ipString(nn)}/${Buffer.from(m).toString('hex')}` : `${ipString(nn)}/${l}`;
}

export function bytesToBig(b: Uint8Array): bigint {
  let n = 0n;
  for (const x of b) n = (n << 8n) | BigInt(x);
  return n;
}

/** big.Int.Bytes: big-endian, without leading zeros (empty for 0). */
export function bigToBytes(n: bigint): Uint8Array {
  if (n === 0n) return new Uint8Array(0);
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}
