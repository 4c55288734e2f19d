import { parse as parseYaml } from 'yaml';
import { insertAt, isObject, mergeData, type DataObject } from '../data.js';
import { BundleError } from './errors.js';
import type { BundleFiles } from './files.js';
import { isUnderRoot, parseManifest, type Manifest } from './manifest.js';
import { overrideNatives } from '../wasm/natives.js';
import { verifyBundle, type VerificationConfig } from './verify.js';

/** A bundle whose signature, manifest, data and WebAssembly have all been checked; ready for the engine. */
export interface Bundle {
  name: string;
  manifest: Manifest;
  data: DataObject;
  /** Compiled modules by bundle path. */
  modules: Map<string, WebAssembly.Module>;
}

export interface LoadOptions {
  /** When set, the bundle must carry a valid signature by one of these keys. */
  verification?: VerificationConfig | undefined;
}

/** Interprets the files of an OPA bundle. Everything that could make it unusable is found here, before activation. */
export async function loadBundle(name: string, files: BundleFiles, options: LoadOptions = {}): Promise<Bundle> {
  if (options.verification) await verifyBundle(name, files, options.verification);
  const manifest = parseManifest(name, files.get('.manifest'));

  let data: DataObject = {};
  const moduleBytes = new Map<string, Buffer>();
  for (const [path, content] of files) {
    const base = path.slice(path.lastIndexOf('/') + 1);
    const dir = path.includes('/') ? path.slice(0, path.lastIndexOf('/')).split('/') : [];
    if (base === 'data.json' || base === 'data.yaml' || base === 'data.yml') {
      data = insertData(name, manifest, data, dir, parseData(name, path, content));
    } else if (base.endsWith('.wasm')) {
      moduleBytes.set(path, content);
    }
    // Rego sources and other files are not evaluated (the WASM is); they still count for the signature.
  }

  const modules = new Map<string, WebAssembly.Module>();
  for (const { entrypoint, module } of manifest.wasm) {
    if (modules.has(module)) continue;
    const bytes = moduleBytes.get(module);
    if (!bytes) throw new BundleError(name, `entrypoint ${entrypoint} names module ${module}, which is not in the bundle`);
    let patched: Uint8Array;
    try {
      patched = overrideNatives(bytes);
    } catch (err) {
      throw new BundleError(name, `${module}: ${(err as Error).message}`, { cause: err });
    }
    try {
      modules.set(module, await WebAssembly.compile(patched));
    } catch (err) {
      throw new BundleError(name, `${module} is not valid WebAssembly: ${(err as Error).message}`, { cause: err });
    }
  }
  return { name, manifest, data, modules };
}

function parseData(bundle: string, path: string, content: Buffer): unknown {
  try {
    return path.endsWith('.json') ? JSON.parse(content.toString('utf8')) : parseYaml(content.toString('utf8'));
  } catch (err) {
    throw new BundleError(bundle, `${path} is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
  }
}

function insertData(bundle: string, manifest: Manifest, data: DataObject, dir: string[], value: unknown): DataObject {
  const where = `/${dir.join('/')}`;
  if (dir.length === 0) {
    if (!isObject(value)) throw new BundleError(bundle, 'data.json at the bundle root must hold an object');
    for (const key of Object.keys(value)) {
      if (!manifest.roots.some((root) => isUnderRoot(key, root) || isUnderRoot(root, key))) {
        throw new BundleError(bundle, `data key ${key} is outside the bundle's roots ${JSON.stringify(manifest.roots)}`);
      }
    }
    return mergeData(data, value);
  }
  if (!manifest.roots.some((root) => isUnderRoot(dir.join('/'), root))) {
    throw new BundleError(bundle, `data at ${where} is outside the bundle's roots ${JSON.stringify(manifest.roots)}`);
  }
  const out = structuredClone(data);
  const conflict = insertAt(out, dir, value);
  if (conflict) throw new BundleError(bundle, conflict);
  return out;
}
