/**
 * The client certificate URI from Envoy's x-forwarded-client-cert header: comma-separated elements (one per
 * proxy that forwarded the request), each `Key=value` pairs separated by `;`, values optionally quoted with
 * `\"` escapes. The element appended last comes from the proxy next to us, the only one we can trust, so
 * its URI is the caller's.
 */
export function xfccUri(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const elements = split(header, ',');
  const last = elements[elements.length - 1];
  if (last === undefined) return undefined;
  for (const pair of split(last, ';')) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    if (pair.slice(0, eq).trim().toLowerCase() !== 'uri') continue;
    return unquote(pair.slice(eq + 1).trim());
  }
  return undefined;
}

/** Splits on sep outside double quotes. */
function split(s: string, sep: string): string[] {
  const out: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (c === sep && !quoted) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out;
}

function unquote(v: string): string {
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) return v.slice(1, -1).replace(/\\(.)/g, '$1');
  return v;
}
