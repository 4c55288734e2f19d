/**
 * Whether a URL may be reached by a policy: http or https, to a host the operator listed, exactly or
 * under a "*.domain" entry (which does not match the domain itself). Host names compare case-insensitively.
 */
export function hostAllowed(url: URL, allowed: readonly string[]): boolean {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  return nameAllowed(url.hostname.replace(/^\[|\]$/g, ''), allowed);
}

export function nameAllowed(host: string, allowed: readonly string[]): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  return allowed.some((entry) => {
    const e = entry.toLowerCase();
    return e.startsWith('*.') ? h.endsWith(e.slice(1)) && h.length > e.length - 1 : h === e;
  });
}
