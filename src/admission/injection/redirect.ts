import { createHash } from 'node:crypto';
import { BlockList, isIP, isIPv6 } from 'node:net';

/**
 * The traffic redirect the init container installs in the Pod's network namespace, rendered per Pod: one
 * shell script that hands iptables-restore the rules of the nat table, for IPv4 and (where the kernel has
 * IPv6) IPv6, and fails, so the Pod never starts, when they cannot be installed. The init container runs it
 * with `sh -c`; the network-namespace test runs the same text with Debian's iptables.
 *
 * What the rules do (TCP only; UDP, DNS included, is left alone):
 *   inbound   every connection to the Pod goes to the proxy's inbound port, but the proxy's own health and
 *             metrics ports and the excluded inbound ports;
 *   outbound  every connection the Pod opens goes to the proxy's outbound port, except those of the
 *             proxy itself (its UID, or its GID as primary group: supplementary groups do not count),
 *             those on the loopback interface (localhost, and the Pod's own address), and the excluded
 *             ports and ranges; with includeOutboundIPRanges other than "*", only those ranges.
 * Rules are appended to our own chains, which the nat table's PREROUTING and OUTPUT jump to, so they
 * sit beside anything else in the namespace without flushing it.
 */
export interface RedirectOptions {
  proxyUid: number;
  proxyGid: number;
  inboundPort: number;
  outboundPort: number;
  /** Ports of the proxy reached directly (health, metrics): never redirected inbound. */
  proxyPorts: number[];
  /** Comma-separated, as the annotations were normalised (annotations.ts): ports, or CIDRs, or "*". */
  excludeInboundPorts: string;
  excludeOutboundPorts: string;
  includeOutboundIPRanges: string;
  excludeOutboundIPRanges: string;
}

const CHAINS = { inbound: 'PORTCULLIS_INBOUND', inRedirect: 'PORTCULLIS_IN_REDIRECT', output: 'PORTCULLIS_OUTPUT', redirect: 'PORTCULLIS_REDIRECT' };

const list = (v: string) => (v.trim() === '' ? [] : v.split(',').map((s) => s.trim()));
const isV6 = (cidr: string) => cidr.includes(':');

/** The nat table rules for one address family, in iptables-restore format. */
export function natRules(o: RedirectOptions, family: 4 | 6): string {
  // The values were checked where they came in (annotations.ts); the script is shell, so it checks again.
  for (const v of [o.excludeInboundPorts, o.excludeOutboundPorts, o.includeOutboundIPRanges, o.excludeOutboundIPRanges]) {
    if (!/^[0-9a-fA-F.:/,* ]*$/.test(v)) throw new Error(`not a list of ports or CIDR ranges: ${JSON.stringify(v)}`);
  }
  const loopback = family === 4 ? '127.0.0.1/32' : '::1/128';
  const ranges = (v: string) => list(v).filter((r) => r !== '*' && isV6(r) === (family === 6));
  const lines = [
    '*nat',
    ...Object.values(CHAINS).map((c) => `:${c} - [0:0]`),
    `-A ${CHAINS.inRedirect} -p tcp -j REDIRECT --to-ports ${o.inboundPort}`,
    `-A ${CHAINS.redirect} -p tcp -j REDIRECT --to-ports ${o.outboundPort}`,
    `-A PREROUTING -p tcp -j ${CHAINS.inbound}`,
    ...[...o.proxyPorts, ...list(o.excludeInboundPorts).map(Number)].map((p) => `-A ${CHAINS.inbound} -p tcp -m tcp --dport ${p} -j RETURN`),
    `-A ${CHAINS.inbound} -p tcp -j ${CHAINS.inRedirect}`,
    `-A OUTPUT -p tcp -j ${CHAINS.output}`,
    // The proxy's own connections (to the application inbound, to the destination outbound) leave as they are.
    `-A ${CHAINS.output} -m owner --uid-owner ${o.proxyUid} -j RETURN`,
    `-A ${CHAINS.output} -m owner --gid-owner ${o.proxyGid} -j RETURN`,
    `-A ${CHAINS.output} -o lo -j RETURN`,
    `-A ${CHAINS.output} -d ${loopback} -j RETURN`,
    ...list(o.excludeOutboundPorts).map((p) => `-A ${CHAINS.output} -p tcp -m tcp --dport ${p} -j RETURN`),
    ...ranges(o.excludeOutboundIPRanges).map((r) => `-A ${CHAINS.output} -d ${r} -j RETURN`),
  ];
  const include = list(o.includeOutboundIPRanges);
  if (include.length === 0 || include.includes('*')) lines.push(`-A ${CHAINS.output} -j ${CHAINS.redirect}`);
  else for (const r of ranges(o.includeOutboundIPRanges)) lines.push(`-A ${CHAINS.output} -d ${r} -j ${CHAINS.redirect}`);
  lines.push('COMMIT', '');
  return lines.join('\n');
}

/**
 * The script the init container runs. iptables-restore comes in two back ends that program the same kernel
 * differently; nf_tables is tried first and the legacy one only when nf_tables is not there, and either
 * applies the whole table or nothing. IPv6 rules are required wherever the kernel has IPv6.
 */
export function redirectScript(o: RedirectOptions): string {
  return [
    'set -eu',
    "# Portcullis traffic redirect: applies the rules below, or fails so the Pod does not start without them.",
    'restore() { rules=$2; printf "%s" "$rules" | "$1-nft-restore" --noflush || printf "%s" "$rules" | "$1-legacy-restore" --noflush; }',
    `restore iptables '${natRules(o, 4)}'`,
    `if [ -e /proc/net/if_inet6 ]; then restore ip6tables '${natRules(o, 6)}'; fi`,
    'echo "portcullis: traffic redirect installed"',
    '',
  ].join('\n');
}

/**
 * The rules of both families, as one digest: the node mode's validation container carries it, so the claim
 * check compares the rules too (the Pod's annotations can change after admission; the node agent installs
 * the rules of the sidecar it confirmed, whose digest is this one).
 */
export function rulesDigest(o: RedirectOptions): string {
  return createHash('sha256').update(natRules(o, 4)).update(natRules(o, 6)).digest('hex');
}

/** Where the validation container's check connects when nothing is excluded: documentation addresses (RFC 5737, 3849). */
const PROBE_ADDRESSES = ['192.0.2.1', '198.51.100.1', '203.0.113.1', '2001:db8::1'];
/** Ports it tries, first one not excluded. */
const PROBE_PORTS = [6000, 6001, 6002, 6003];

/**
 * An address:port these rules send to the proxy's outbound port from a process that is not the proxy: the
 * node mode's validation container connects there and must land on its own listener on that port. An
 * address inside includeOutboundIPRanges (their first host) when they are limited, and outside
 * excludeOutboundIPRanges; undefined when the rules redirect no outbound TCP at all.
 */
export function probeTarget(o: RedirectOptions): string | undefined {
  const excludedPorts = new Set(list(o.excludeOutboundPorts).map(Number));
  const port = PROBE_PORTS.find((p) => !excludedPorts.has(p));
  if (port === undefined) return undefined;
  const excluded = new BlockList();
  for (const r of list(o.excludeOutboundIPRanges)) {
    const [net, bits] = r.split('/');
    excluded.addSubnet(net as string, Number(bits ?? (isIPv6(net as string) ? 128 : 32)), isIPv6(net as string) ? 'ipv6' : 'ipv4');
  }
  const include = list(o.includeOutboundIPRanges);
  const candidates = include.length === 0 || include.includes('*') ? PROBE_ADDRESSES : include.map(firstHost).filter((a): a is string => a !== undefined);
  const address = candidates.find((a) => !excluded.check(a, isIPv6(a) ? 'ipv6' : 'ipv4') && a !== '127.0.0.1' && a !== '::1');
  if (address === undefined) return undefined;
  return isIPv6(address) ? `[${address}]:${port}` : `${address}:${port}`;
}

/** The first host of a range: its network address plus one (the address itself for a single host). */
function firstHost(cidr: string): string | undefined {
  const [net, bitsText] = cidr.split('/');
  if (net === undefined || !isIP(net)) return undefined;
  const v6 = isIPv6(net);
  const width = v6 ? 128 : 32;
  const bits = bitsText === undefined ? width : Number(bitsText);
  if (bits >= width - 1) return net;
  const value = v6 ? ipv6Value(net) : net.split('.').reduce((n, o) => (n << 8n) | BigInt(o), 0n);
  const mask = ((1n << BigInt(width)) - 1n) ^ ((1n << BigInt(width - bits)) - 1n);
  const host = (value & mask) + 1n;
  if (!v6) return [24n, 16n, 8n, 0n].map((s) => String((host >> s) & 255n)).join('.');
  const groups: string[] = [];
  for (let s = 112n; s >= 0n; s -= 16n) groups.push(((host >> s) & 0xffffn).toString(16));
  return groups.join(':');
}

function ipv6Value(address: string): bigint {
  const [head = '', tail = ''] = address.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = address.includes('::') ? (tail === '' ? [] : tail.split(':')) : [];
  const groups = address.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  return groups.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
}
