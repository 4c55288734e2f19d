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
  check('cpu', positiveQuantity);
  check('memory', positiveQuantity);
  check('excludeInboundPorts', ports);
  check('excludeOutboundPorts', ports);
  check('includeOutboundIPRanges', (v) => ipRanges(v, true));
  check('excludeOutboundIPRanges', (v) => ipRanges(v, false));
  return { overrides, problems };
}

const QUANTITY = /^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$/;
const SCALE: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** The value of a Kubernetes resource quantity ("250m", "1.5Gi", "1e3"), or NaN when it is not one. */
export function quantityValue(q: string): number {
  const m = QUANTITY.exec(q);
  if (!m) return NaN;
  const suffix = m[2] ?? '';
  const scale = SCALE[suffix] ?? 10 ** Number(suffix.slice(1));
  return Number(m[1]) * scale;
}

function positiveQuantity(v: string): string {
  const value = quantityValue(v);
  if (Number.isNaN(value)) throw new Error('not a Kubernetes quantity (e.g. 250m, 0.5, 128Mi, 1Gi)');
  if (value <= 0) throw new Error('must be greater than zero');
  return v;
}

function items(v: string): string[] {
  return v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function ports(v: string): string {
  const out = items(v);
  for (const p of out) {
    if (!/^[0-9]{1,5}$/.test(p) || Number(p) < 1 || Number(p) > 65535) throw new Error(`${JSON.stringify(p)} is not a port (1-65535)`);
  }
  return out.map(Number).join(',');
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
