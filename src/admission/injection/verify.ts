import { isDeepStrictEqual } from 'node:util';
import { stripDefaults, stripVolumeDefaults } from './defaulting.js';
import { placement, type InjectionStatus } from './patch.js';
import type { Pod } from './pod.js';
import type { NamedItem, Sidecar } from './sidecar.js';
import { STATUS_ANNOTATION } from './trigger.js';

/** Where the API server's ServiceAccount admission plugin mounts a Pod's token into every container. */
const SERVICE_ACCOUNT_MOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * Checks that a Pod carrying the status annotation holds exactly the sidecar this template renders for it,
 * or says what differs. The annotation is written by the injector, but the Pod's author can write it too,
 * beside a "proxy" that runs something else, an extra LD_PRELOAD or a second PORTCULLIS_AUTHZ_ADDRESS, a
 * volume mounted over the proxy's binary, or an init container of their own placed before the redirect; any
 * of them would pass for injected and leave the mesh. So the whole injected part is compared: every field
 * of each injected container and volume (what the API server fills in by default aside), the order of the
 * init containers, the status annotation itself, and no other container may mount the sidecar's volumes.
 * A Pod copied from a running one (defaulted fields and the ServiceAccount token mount) still matches.
 */
export function verifyInjected(pod: Pod, sidecar: Sidecar, status: InjectionStatus): string | undefined {
  const placed = placement(sidecar, status.nativeSidecar);
  const problems: string[] = [];

  const expectedStatus: InjectionStatus = {
    template: status.template,
    initContainers: placed.initContainers.map((c) => c.name),
    containers: placed.containers.map((c) => c.name),
    volumes: sidecar.volumes.map((v) => v.name),
    nativeSidecar: status.nativeSidecar,
  };
  if (!isDeepStrictEqual(status, expectedStatus)) problems.push(`${STATUS_ANNOTATION} is not the one the injector writes (${JSON.stringify(expectedStatus)})`);

  for (const list of ['initContainers', 'containers'] as const) {
    const have = (pod.spec[list] ?? []) as NamedItem[];
    for (const want of placed[list]) {
      const found = have.find((c) => c.name === want.name);
      if (!found) problems.push(`${list} has no "${want.name}"`);
      else {
        const differ = containerDifferences(found, want);
        if (differ.length > 0) problems.push(`"${want.name}" differs in ${differ.join(', ')}`);
      }
    }
  }

  // The redirect runs before anything else does, and a native proxy right after it: an init container of the
  // Pod's own placed before them would run with the network not yet redirected.
  const order = placed.initContainers.map((c) => c.name);
  const first = (pod.spec.initContainers ?? []).slice(0, order.length).map((c) => c.name);
  if (order.length > 0 && !isDeepStrictEqual(first, order)) {
    problems.push(`initContainers must start with ${order.map((n) => `"${n}"`).join(', ')} (found ${first.map((n) => `"${n}"`).join(', ') || 'none'})`);
  }

  const volumes = (pod.spec.volumes ?? []) as NamedItem[];
  for (const want of sidecar.volumes) {
    const found = volumes.find((v) => v.name === want.name);
    if (!found) problems.push(`volumes has no "${want.name}"`);
    else if (!isDeepStrictEqual(stripVolumeDefaults(found), stripVolumeDefaults(want))) problems.push(`volume "${want.name}" differs`);
  }

  // The proxy's certificates and token are its own: another container mounting them could read its key.
  const injectedNames = new Set([...placed.initContainers, ...placed.containers].map((c) => c.name));
  const sidecarVolumes = new Set(sidecar.volumes.map((v) => v.name));
  for (const list of ['initContainers', 'containers', 'ephemeralContainers'] as const) {
    for (const c of (pod.spec[list] ?? []) as NamedItem[]) {
      if (list !== 'ephemeralContainers' && injectedNames.has(c.name)) continue;
      for (const m of mounts(c)) {
        if (sidecarVolumes.has(m.name)) problems.push(`container "${c.name}" mounts the sidecar's volume "${m.name}"`);
      }
    }
  }

  if (problems.length === 0) return undefined;
  return `the Pod carries ${STATUS_ANNOTATION} but not the sidecar Portcullis injects for it (${problems.join('; ')}): remove the annotation and the sidecar containers so it is injected again`;
}

/** The top-level fields of an injected container that are not what the template renders, defaults aside. */
function containerDifferences(have: NamedItem, want: NamedItem): string[] {
  const h = stripDefaults({ ...have, volumeMounts: mounts(have).filter((m) => !tokenMount(m)) }, want);
  const w = stripDefaults(want, want);
  const keys = [...new Set([...Object.keys(h), ...Object.keys(w)])].filter((k) => k !== 'name');
  return keys.filter((k) => !isDeepStrictEqual(emptyAsAbsent(h[k]), emptyAsAbsent(w[k]))).map((k) => (k === 'env' ? `env ${envDifferences(h.env, w.env)}` : k));
}

/** Which variables differ, by name: changed, added, missing, or set more than once (the last one wins in the container). */
function envDifferences(have: unknown, want: unknown): string {
  const entries = (l: unknown) => (Array.isArray(l) ? l : []).map((e) => [typeof e?.name === 'string' ? (e.name as string) : '?', e] as const);
  const h = entries(have);
  const w = new Map(entries(want));
  const out: string[] = [];
  const seen = new Set<string>();
  for (const [name, e] of h) {
    if (seen.has(name)) out.push(`${name} (twice)`);
    else if (!w.has(name)) out.push(`${name} (added)`);
    else if (!isDeepStrictEqual(e, w.get(name))) out.push(name);
    seen.add(name);
  }
  for (const name of w.keys()) if (!seen.has(name)) out.push(`${name} (missing)`);
  return [...new Set(out)].join(', ') || '(order)';
}

function emptyAsAbsent(v: unknown): unknown {
  return Array.isArray(v) && v.length === 0 ? undefined : v;
}

interface Mount {
  name: string;
  mountPath?: unknown;
  readOnly?: unknown;
}

function mounts(c: NamedItem): Mount[] {
  const all = [c.volumeMounts, c.volumeDevices].flatMap((l) => (Array.isArray(l) ? l : []));
  return all.filter((m): m is Mount => m !== null && typeof m === 'object' && typeof (m as Mount).name === 'string');
}

/**
 * The ServiceAccount admission plugin's token mount, added to every container of a Pod that automounts its
 * token (the injected ones included) after the webhooks ran; read-only, at the one path the proxy never reads.
 */
function tokenMount(m: Mount): boolean {
  return m.name.startsWith('kube-api-access-') && m.mountPath === SERVICE_ACCOUNT_MOUNT && m.readOnly === true && Object.keys(m).length === 3;
}

/** The status an annotation holds, if it is one the injector could have written. */
export function parseStatus(value: string): InjectionStatus | undefined {
  let status: unknown;
  try {
    status = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (status === null || typeof status !== 'object' || Array.isArray(status)) return undefined;
  const s = status as Record<string, unknown>;
  const names = (v: unknown) => Array.isArray(v) && v.every((n) => typeof n === 'string');
  if (typeof s.template !== 'string' || !names(s.initContainers) || !names(s.containers) || !names(s.volumes) || typeof s.nativeSidecar !== 'boolean') return undefined;
  return s as unknown as InjectionStatus;
}
