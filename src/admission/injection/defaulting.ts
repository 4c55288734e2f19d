import { isDeepStrictEqual } from 'node:util';

/**
 * The values the API server fills in when a Pod is stored (Kubernetes' SetDefaults_* for the core group),
 * removed from injected containers and volumes before they are compared with the template: a Pod copied
 * from a running one holds them, the template need not. Only a field whose value IS the default goes, so
 * nothing an author sets to another value can hide behind this.
 */

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Removes `key` from `obj` when it holds `value`. */
function drop(obj: Json, key: string, value: unknown): void {
  if (obj[key] === value) delete obj[key];
}

const PROBE_DEFAULTS: Array<[string, unknown]> = [
  ['timeoutSeconds', 1],
  ['periodSeconds', 10],
  ['successThreshold', 1],
  ['failureThreshold', 3],
];

function handler(h: unknown): void {
  if (!isObject(h)) return;
  if (isObject(h.httpGet)) {
    drop(h.httpGet, 'scheme', 'HTTP');
    drop(h.httpGet, 'path', '/');
  }
}

function fieldRefs(items: unknown): void {
  if (!Array.isArray(items)) return;
  for (const item of items) {
    if (!isObject(item)) continue;
    const from = isObject(item.valueFrom) ? item.valueFrom : item;
    if (isObject(from.fieldRef)) drop(from.fieldRef, 'apiVersion', 'v1');
    if (isObject(from.resourceFieldRef)) drop(from.resourceFieldRef, 'divisor', '0');
  }
}

/** The image pull policy Kubernetes gives a container without one: Always for :latest or no tag, else IfNotPresent. */
function defaultPullPolicy(image: unknown): string {
  if (typeof image !== 'string') return 'IfNotPresent';
  if (image.includes('@')) return 'IfNotPresent';
  const last = image.slice(image.lastIndexOf('/') + 1);
  const tag = last.includes(':') ? last.slice(last.indexOf(':') + 1) : '';
  return tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

/** A deep copy of a container without the values the API server defaults; `template` is the rendered one it is compared with. */
export function stripDefaults(container: Json, template: Json): Json {
  const c = structuredClone(container);
  drop(c, 'terminationMessagePath', '/dev/termination-log');
  drop(c, 'terminationMessagePolicy', 'File');
  if (template.imagePullPolicy === undefined) drop(c, 'imagePullPolicy', defaultPullPolicy(c.image));
  if (Array.isArray(c.ports)) for (const p of c.ports) if (isObject(p)) drop(p, 'protocol', 'TCP');
  for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
    const p = c[probe];
    if (!isObject(p)) continue;
    for (const [key, value] of PROBE_DEFAULTS) if (isObject(template[probe]) ? (template[probe] as Json)[key] === undefined : true) drop(p, key, value);
    handler(p);
  }
  if (isObject(c.lifecycle)) for (const h of Object.values(c.lifecycle)) handler(h);
  fieldRefs(c.env);
  // Requests default to the limits when only limits are given.
  const resources = c.resources;
  const wanted = isObject(template.resources) ? template.resources : {};
  if (isObject(resources) && wanted.requests === undefined && isObject(resources.limits) && isDeepStrictEqual(resources.requests, resources.limits)) delete resources.requests;
  return c;
}

const MODE_DEFAULTED = ['secret', 'configMap', 'downwardAPI', 'projected'];

/** A deep copy of a volume without the values the API server defaults. */
export function stripVolumeDefaults(volume: Json): Json {
  const v = structuredClone(volume);
  for (const kind of MODE_DEFAULTED) if (isObject(v[kind])) drop(v[kind] as Json, 'defaultMode', 420);
  if (isObject(v.downwardAPI)) fieldRefs((v.downwardAPI as Json).items);
  if (isObject(v.projected) && Array.isArray((v.projected as Json).sources)) {
    for (const source of (v.projected as Json).sources as unknown[]) {
      if (!isObject(source)) continue;
      if (isObject(source.serviceAccountToken)) drop(source.serviceAccountToken, 'expirationSeconds', 3600);
      if (isObject(source.downwardAPI)) fieldRefs(source.downwardAPI.items);
    }
  }
  return v;
}
