import { isDeepStrictEqual } from 'node:util';
import { placement } from './patch.js';
import type { Pod } from './pod.js';
import type { Sidecar } from './sidecar.js';
import { STATUS_ANNOTATION } from './trigger.js';

/**
 * The fields of an injected container that decide whether the mesh really holds for the Pod: what runs
 * (image, command, args), as whom (securityContext) and with which identity and authorization server
 * (env). Everything else may be defaulted by the API server or changed by other mutating webhooks.
 */
const COMPARED = ['image', 'command', 'args', 'securityContext', 'restartPolicy'] as const;

/**
 * Checks that a Pod carrying the status annotation really holds the sidecar this template renders for it,
 * or says what differs. The annotation is written by the injector, but the Pod's author can write it too,
 * beside a "proxy" that runs something else or an init container that redirects nothing; that Pod would
 * pass for injected and leave the mesh. A Pod copied from a running one (defaulted fields and all) or
 * reinvoked after another webhook added env vars still matches.
 */
export function verifyInjected(pod: Pod, sidecar: Sidecar, nativeSidecar: boolean): string | undefined {
  const placed = placement(sidecar, nativeSidecar);
  const problems: string[] = [];
  const expected = (['initContainers', 'containers'] as const).flatMap((list) => placed[list].map((want) => [list, want] as const));
  for (const [list, want] of expected) {
    const have = (pod.spec[list] ?? []).find((c) => c.name === want.name) as Record<string, unknown> | undefined;
    if (!have) {
      problems.push(`${list} has no "${want.name}"`);
      continue;
    }
    const differ: string[] = COMPARED.filter((field) => !isDeepStrictEqual(have[field], want[field]));
    const env = (want.env as unknown[] | undefined) ?? [];
    const haveEnv = (have.env as unknown[] | undefined) ?? [];
    const missing = env.filter((e) => !haveEnv.some((h) => covers(h, e))).map((e) => (e as { name?: string }).name ?? '?');
    if (missing.length > 0) differ.push(`env ${missing.join(', ')}`);
    if (differ.length > 0) problems.push(`"${want.name}" differs in ${differ.join(', ')}`);
  }
  if (problems.length === 0) return undefined;
  return `the Pod carries ${STATUS_ANNOTATION} but not the sidecar Portcullis injects for it (${problems.join('; ')}): remove the annotation and the sidecar containers so it is injected again`;
}

/**
 * Whether `have` holds everything `want` says: the API server defaults fields the template leaves out
 * (an env var's fieldRef gains apiVersion: v1), which must not read as a difference.
 */
function covers(have: unknown, want: unknown): boolean {
  if (want === null || typeof want !== 'object' || Array.isArray(want)) return isDeepStrictEqual(have, want);
  if (have === null || typeof have !== 'object' || Array.isArray(have)) return false;
  return Object.entries(want).every(([k, v]) => covers((have as Record<string, unknown>)[k], v));
}

/** The template revision a status annotation names, if it is one the injector wrote. */
export function statusRevision(value: string): string | undefined {
  try {
    const status = JSON.parse(value) as { template?: unknown };
    return typeof status?.template === 'string' ? status.template : undefined;
  } catch {
    return undefined;
  }
}
