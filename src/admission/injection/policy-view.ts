import type { SidecarClaim } from './injector.js';

/**
 * The Pod as the validating policy is given it once the injector confirmed its sidecar: the confirmed
 * containers' copies of the Envoy bootstrap (the proxy's --config-yaml, 10-20 KB of JSON inlining the mesh
 * trust bundle) are replaced by a short note. The injector has just checked that text is exactly what its
 * template renders for this Pod, no rule reads it (they judge the proxy by its name, image, UID and
 * securityContext, all still there), and it tripled the size of the input every injected Pod's review
 * encodes into the policy's memory. Everything else is the object as it is, and the object is not changed:
 * only the path down to a replaced string is copied.
 */
export function confirmedPodView(object: unknown, claim: SidecarClaim, bootstrap: string): unknown {
  if (!claim.verified || bootstrap === '') return object;
  const note = `(the Envoy bootstrap the injector rendered for this Pod and confirmed: ${Buffer.byteLength(bootstrap)} bytes, not shown to the policy)`;
  const pod = object as { spec: Record<string, unknown> };
  let spec: Record<string, unknown> | undefined;
  for (const list of ['initContainers', 'containers'] as const) {
    const confirmed = new Set(claim[list]);
    const containers = pod.spec[list];
    if (confirmed.size === 0 || !Array.isArray(containers)) continue;
    const replaced = containers.map((c: { name?: unknown }) => (confirmed.has(c?.name as string) ? replace(c, bootstrap, note) : c));
    if (replaced.some((c, i) => c !== containers[i])) (spec ??= { ...pod.spec })[list] = replaced;
  }
  return spec ? { ...pod, spec } : object;
}

/** The value with every string equal to `text` replaced by `note`: the same value when none is, else copies down to each. */
function replace(value: unknown, text: string, note: string): unknown {
  if (value === text) return note;
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    const out = value.map((v) => replace(v, text, note));
    return out.some((v, i) => v !== value[i]) ? out : value;
  }
  let copy: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(value)) {
    const r = replace(v, text, note);
    if (r === v) continue;
    copy ??= { ...(value as Record<string, unknown>) };
    Object.defineProperty(copy, k, { value: r, enumerable: true, writable: true, configurable: true });
  }
  return copy ?? value;
}
