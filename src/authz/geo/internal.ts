import { BlockList, isIPv4, isIPv6 } from 'node:net';

/** Addresses that never leave a cluster or a host: RFC 1918, CGNAT, loopback, link-local, unique-local. */
const internal = new BlockList();
internal.addSubnet('10.0.0.0', 8, 'ipv4');
internal.addSubnet('172.16.0.0', 12, 'ipv4');
internal.addSubnet('192.168.0.0', 16, 'ipv4');
internal.addSubnet('100.64.0.0', 10, 'ipv4');
internal.addSubnet('127.0.0.0', 8, 'ipv4');
internal.addSubnet('169.254.0.0', 16, 'ipv4');
internal.addSubnet('0.0.0.0', 8, 'ipv4');
internal.addAddress('::1', 'ipv6');
internal.addAddress('::', 'ipv6');
internal.addSubnet('fc00::', 7, 'ipv6');
internal.addSubnet('fe80::', 10, 'ipv6');

export function isInternal(ip: string): boolean {
  if (isIPv4(ip)) return internal.check(ip, 'ipv4');
  if (!isIPv6(ip)) return false;
  // An IPv4 address written as ::ffff:a.b.c.d is judged as the IPv4 address it is.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return internal.check(mapped[1] as string, 'ipv4');
  return internal.check(ip, 'ipv6');
}
