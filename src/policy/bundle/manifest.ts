import { BundleError } from './errors.js';

export interface WasmResolver {
  /** Slash-separated rule path, e.g. "portcullis/admission/violations". */
  entrypoint: string;
  /** Bundle path of the module, e.g. "policy.wasm". */
  module: string;
}

/** The `.manifest` of an OPA bundle, validated. */
export interface Manifest {
  revision: string;
  /** Data and policy paths this bundle owns; "" owns everything. */
  roots: string[];
  wasm: WasmResolver[];
  metadata: Record<string, unknown>;
}

export function parseManifest(bundle: string, raw: Buffer | undefined): Manifest {
  if (!raw) throw new BundleError(bundle, '.manifest is missing; a WASM bundle needs one to name its entrypoints');
  let doc: unknown;
  try {
    doc = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new BundleError(bundle, `.manifest is not valid JSON: ${(err as Error).message}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new BundleError(bundle, '.manifest must be a JSON object');
  const m = doc as Record<string, unknown>;
  const revision = m.revision ?? '';
  if (typeof revision !== 'string') throw new BundleError(bundle, '.manifest revision must be a string');
  const roots = m.roots ?? [''];
  if (!Array.isArray(roots) || !roots.every((r) => typeof r === 'string')) {
    throw new BundleError(bundle, '.manifest roots must be an array of strings');
  }
  const wasm = m.wasm ?? [];
  if (!Array.isArray(wasm) || wasm.length === 0) throw new BundleError(bundle, '.manifest lists no wasm entrypoints (build with `opa build -t wasm -e ...`)');
  const resolvers = wasm.map((w: unknown, i) => {
    const r = w as Partial<WasmResolver> | null;
    if (typeof r?.entrypoint !== 'string' || r.entrypoint === '' || typeof r.module !== 'string' || r.module === '') {
      throw new BundleError(bundle, `.manifest wasm[${i}] needs an entrypoint and a module`);
    }
    return { entrypoint: r.entrypoint.replace(/^\/+|\/+$/g, ''), module: r.module.replace(/^\/+/, '') };
  });
  for (const r of resolvers) {
    if (!roots.some((root) => isUnderRoot(r.entrypoint, root as string))) {
      throw new BundleError(bundle, `entrypoint ${r.entrypoint} is outside the bundle's roots ${JSON.stringify(roots)}`);
    }
  }
  const metadata = m.metadata ?? {};
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) throw new BundleError(bundle, '.manifest metadata must be an object');
  return { revision, roots: roots as string[], wasm: resolvers, metadata: metadata as Record<string, unknown> };
}

/** True when a slash path lies under a root ("" covers everything; "a/b" covers "a/b" and "a/b/c"). */
export function isUnderRoot(path: string, root: string): boolean {
  const r = root.replace(/^\/+|\/+$/g, '');
  return r === '' || path === r || path.startsWith(`${r}/`);
}

/** True when two bundles' roots claim a common path, which would let one bundle shadow the other's data. */
export function rootsOverlap(a: string[], b: string[]): boolean {
  return a.some((x) => b.some((y) => isUnderRoot(x, y) || isUnderRoot(y, x)));
}
