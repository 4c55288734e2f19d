import { joinPems, splitPems } from '../../certs/pem.js';

/** Past this many certificates in the bundle, only each one alone is tried besides the whole (at most 2^4 - 2 renderings otherwise). */
const MAX_COMBINED = 4;

/**
 * The trust bundles a proxy injected earlier may carry and still be the injector's own: the current bundle,
 * then each part of it (its certificates in the same order, as the CA writes them). A CA rollover
 * (src/certs/rotation.ts) goes [old] → [old, new] → [new]: a Pod injected under [old] carries exactly
 * what the template rendered then, and it verifies for as long as the old CA stays in the bundle (the
 * rotation hold), no longer after. Every candidate holds only certificates the mesh trusts now, so no Pod
 * passes with a proxy that trusts a CA of its own making or one the mesh has dropped. Derived from the
 * bundle alone, the answer is the same in every replica, decision worker and posture audit, however long
 * each has been running.
 */
export function acceptedTrustBundles(bundle: string): string[] {
  const certs = splitPems(bundle);
  if (certs.length < 2) return [bundle];
  const parts: string[] = [];
  if (certs.length > MAX_COMBINED) parts.push(...certs.map((c) => joinPems([c])));
  else {
    for (let mask = (1 << certs.length) - 2; mask > 0; mask--) parts.push(joinPems(certs.filter((_, i) => mask & (1 << (certs.length - 1 - i)))));
  }
  return [bundle, ...parts.filter((p) => p !== bundle)];
}
