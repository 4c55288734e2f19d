import { isIP } from 'node:net';

/**
 * The client's address. With N trusted hops (Envoy's xff_num_trusted_hops, use_remote_address: true) the
 * peer's own address counts as the rightmost entry of X-Forwarded-For and the client is the one N entries
 * further left, i.e. the Nth entry of the header counted from its right end. Fewer entries than that, or
 * an entry that is not an IP address, and the peer address is used: the header cannot be trusted further.
 */
export function clientIp(peer: string | undefined, xff: string | undefined, trustedHops: number): string | undefined {
  if (trustedHops === 0 || !xff) return peer;
  const hops = xff.split(',');
  const entry = hops[hops.length - trustedHops];
  if (entry === undefined) return peer;
  const ip = entry.trim();
  return isIP(ip) ? ip : peer;
}
