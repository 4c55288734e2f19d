import { isIPv4, isIPv6 } from 'node:net';

/** Per-Pod overrides of the sidecar, set by the Pod's author (names in DESIGN.md). */
const ANNOTATIONS = {
  cpu: 'proxy.portcullis.io/cpu',
  memory: 'proxy.portcullis.io/memory',
  excludeInboundPorts: 'traffic.portcullis.io/excludeInboundPorts',
  excludeOutboundPorts: 'traffic.portcullis.io/excludeOutboundPorts',
  includeOutboundIPRanges: 'traffic.portcullis.io/includeOutboundIPRanges',
  excludeOutboundIPRanges: 'traffic.portcullis.io/excludeOutboundIPRanges',
} as const;

export interface Overrides {
  cpu?: string;
  memory?: string;
  /** Normalised comma-separated lists, as the redirect init container takes them. */
  excludeInboundPorts?: string;
  excludeOutboundPorts?: string;
  includeOutboundIPRanges?: string;
  excludeOutboundIPRanges?: string;
}

/** Reads and checks the annotations; a bad value is reported, never passed on to iptables or the scheduler. */
export function readOverrides(annotations: Record<string, string> | undefined): { overrides: Overrides; problems: string[] } {
  const overrides: Overrides = {};
  const problems: string[] = [];
  if (!annotations) return { overrides, problems };
  const check = (key: keyof Overrides, parse: (v: string) => string) => {
    const raw = annotations[ANNOTATIONS[key]];
    if (raw === undefined) return;
    try {
      overrides[key] = parse(raw);
    } catch (err) {
      problems.push(`annotation ${ANNOTATIONS[key]}=${JSON.stringify(raw)}: ${(err as Error).message}`);
    }
  };
  check('cpu', cpu);
  check('memory', memory);
  check('excludeInboundPorts', ports);
  check('excludeOutboundPorts', ports);
  check('includeOutboundIPRanges', (v) => ipRanges(v, true));
  check('excludeOutboundIPRanges', (v) => ipRanges(v, false));
  return { overrides, problems };
}

/**
 * Bounds of the proxy's resources a Pod may ask for: room for any proxy, while a typo (or 1e400, which is
 * Infinity) never asks a node for a thousand cores. 1m is the finest CPU unit Kubernetes keeps.
 */
const CPU = { min: 1e-3, max: 64 };
const MEMORY = { max: 64 * 2 ** 30, maxText: '64Gi' };

const QUANTITY = /^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$/;
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };

/** The value of a Kubernetes resource quantity ("250m", "1.5Gi", "1e3"), or NaN when it is not one. */
export function quantityValue(q: string): number {
  const m = QUANTITY.exec(q);
  if (!m) return NaN;
  const [, mantissa = '', suffix = ''] = m;
  const exp2 = BINARY[suffix];
  if (exp2 !== undefined) return Number(mantissa) * 2 ** exp2;
  // Parsed as one decimal number: "1000u" is exactly the double 0.001 is, and 1e400 is Infinity.
  return Number(`${mantissa}e${DECIMAL[suffix] ?? suffix.slice(1)}`);
}

function positive(v: string): number {
  const value = quantityValue(v);
  if (Number.isNaN(value)) throw new Error('not a Kubernetes quantity (e.g. 250m, 0.5, 128Mi, 1Gi)');
  if (value <= 0) throw new Error('must be greater than zero');
  return value;
}

function cpu(v: string): string {
  const value = positive(v);
  if (value < CPU.min) throw new Error('must be at least 1m (a thousandth of a core), the finest CPU unit Kubernetes keeps');
  if (value > CPU.max) throw new Error(`must be at most ${CPU.max} cores`);
  return v;
}

function memory(v: string): string {
  const value = positive(v);
  if (value > MEMORY.max) throw new Error(`must be at most ${MEMORY.maxText}`);
  // Whole byte counts up to 64Gi are exact doubles, and parsing rounds correctly, so a fraction stays one.
  if (!Number.isInteger(value)) throw new Error('must be a whole number of bytes (e.g. 128Mi, 1G, 1e9; not 0.5 or 100m)');
  return v;
}

/** The entries of a comma-separated list, trimmed; an empty one ("80,,443", a trailing comma) is a typo, refused. */
function items(v: string): string[] {
  if (v.trim() === '') return [];
  const out = v.split(',').map((s) => s.trim());
  if (out.includes('')) throw new Error('has an empty entry (a stray comma)');
  return out;
}

function ports(v: string): string {
  const out = items(v);
  for (const p of out) {
    // Decimal digits only, no leading zero: "080" reads as octal to some tools, and as 80 here.
    if (!/^[1-9][0-9]{0,4}$/.test(p) || Number(p) > 65535) throw new Error(`${JSON.stringify(p)} is not a port (1-65535, no leading zeros)`);
  }
  return out.join(',');
}

function ipRanges(v: string, allowAll: boolean): string {
  const out = items(v);
  for (const r of out) {
    if (r === '*') {
      if (!allowAll || out.length > 1) throw new Error('"*" (all ranges) is allowed only alone, and only for includeOutboundIPRanges');
      continue;
    }
    const [ip = '', prefix, extra] = r.split('/');
    const max = isIPv4(ip) ? 32 : isIPv6(ip) ? 128 : 0;
    const bits = Number(prefix);
    if (max === 0 || extra !== undefined || prefix === undefined || !/^[0-9]{1,3}$/.test(prefix) || bits > max) {
      throw new Error(`${JSON.stringify(r)} is not a CIDR range (e.g. 10.0.0.0/8 or fd00::/8)`);
    }
  }
  return out.join(',');
}
