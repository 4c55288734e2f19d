import type { LoadedPolicy } from '@open-policy-agent/opa-wasm';
import type { Bundle } from './bundle/bundle.js';
import { BundleError } from './bundle/errors.js';
import { rootsOverlap } from './bundle/manifest.js';
import { mergeData, type DataObject } from './data.js';
import type { Builtin } from './builtins/builtin.js';
import type { PrintHook } from './builtins/debug.js';
import { hostBuiltins, type HostConfig } from './builtins/host.js';
import { evaluateJson, peakMemoryBytes } from './wasm/evaluate.js';
import { instantiatePolicy, MissingBuiltinsError } from './wasm/instance.js';

/** A policy evaluation that failed inside the WebAssembly (a conflict, a builtin error, memory exhausted). */
export class EvaluationError extends Error {
  constructor(
    readonly entrypoint: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`evaluating ${entrypoint}: ${message}`, options);
    this.name = 'EvaluationError';
  }
}

interface Target {
  policy: LoadedPolicy;
  bundle: string;
}

/**
 * What a Snapshot was built from: plain bytes and strings, so another thread (the admission decision
 * workers) can build the same Snapshot with snapshotFrom().
 */
export interface SnapshotSource {
  revisions: Record<string, string>;
  /** The merged data of every bundle and the overlay, as JSON. */
  data: Uint8Array;
  // Compiled modules: a worker thread instantiates them without compiling again.
  modules: Array<{ bundle: string; wasm: WebAssembly.Module; entrypoints: string[] }>;
  /** What the host builtins may do (network builtins), so another thread provides the same ones. */
  host: HostConfig;
}

/**
 * One consistent view of every active bundle and the data overlay. It never changes once built: a reload
 * builds a new Snapshot and swaps the reference, so whoever holds this one finishes on it.
 */
export class Snapshot {
  /** The same revisions in the shape of OPA's decision log `bundles` field, for audit events. */
  readonly bundles: Readonly<Record<string, { revision: string }>>;
  private readonly dataValues = new Map<string, unknown>();

  constructor(
    private readonly targets: ReadonlyMap<string, Target>,
    /** Revision of each active bundle, by bundle name. */
    readonly revisions: Readonly<Record<string, string>>,
    readonly source: SnapshotSource = { revisions: {}, data: new Uint8Array(), modules: [], host: {} },
  ) {
    this.bundles = Object.fromEntries(Object.entries(revisions).map(([name, revision]) => [name, { revision }]));
  }

  has(entrypoint: string): boolean {
    return this.targets.has(entrypoint);
  }

  get entrypoints(): string[] {
    return [...this.targets.keys()];
  }

  /** The most memory any of this snapshot's policy instances has touched. */
  peakMemoryBytes(): number {
    let peak = 0;
    for (const { policy } of this.targets.values()) peak = Math.max(peak, peakMemoryBytes(policy));
    return peak;
  }

  /**
   * The value of an entrypoint that reads data only, evaluated without input once per snapshot; undefined
   * when no bundle provides it or it fails (callers then take the safe path).
   */
  dataValue(entrypoint: string): unknown {
    if (!this.dataValues.has(entrypoint)) {
      let value: unknown;
      try {
        value = this.has(entrypoint) ? this.evaluate(entrypoint, undefined) : undefined;
      } catch {
        value = undefined;
      }
      this.dataValues.set(entrypoint, value);
    }
    return this.dataValues.get(entrypoint);
  }

  /**
   * The value of the entrypoint for this input (`serialized`: its JSON, if already made), or undefined when
   * the rule is undefined. `exact`: numbers a double cannot hold come back as RawNumbers.
   */
  evaluate(entrypoint: string, input: unknown, serialized?: string, exact = false): unknown {
    const target = this.targets.get(entrypoint);
    if (!target) throw new EvaluationError(entrypoint, 'no active bundle provides this entrypoint');
    let results: Array<{ result?: unknown }>;
    try {
      results = evaluateJson(target.policy, entrypoint, input, serialized, exact);
    } catch (err) {
      throw new EvaluationError(entrypoint, thrownMessage(err), { cause: err });
    }
    return results[0]?.result;
  }
}

export interface EngineOptions {
  /** Upper bound of each policy's linear memory, in 64 KiB pages: a runaway input fails instead of eating the heap. */
  maxMemoryPages?: number;
  /**
   * Entrypoints that list mistakes in the data (e.g. portcullis/authz/policy_errors). When one of them is
   * active and returns a non-empty list, the bundle or overlay that produced the data is refused.
   */
  dataChecks?: string[];
  /** What the host builtins may do; network builtins stay refused without it. */
  host?: HostConfig;
  /** Receives what policies print(). */
  print?: PrintHook;
}

/** Operator data that a data check refused; the previous data keeps serving. */
export class DataError extends Error {
  constructor(readonly problems: string[]) {
    super(`policy data refused: ${problems.join('; ')}`);
    this.name = 'DataError';
  }
}

/**
 * Evaluates entrypoints of the active bundles. Several bundles can be active side by side when their roots
 * do not overlap; every policy sees the data of all of them with the operator overlay merged on top, as
 * OPA does.
 */
export class PolicyEngine {
  private bundles = new Map<string, Bundle>();
  private overlay: DataObject = {};
  private snapshot = new Snapshot(new Map(), {});
  /** Activations run one after the other so two reloads never race to swap. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly maxMemoryPages: number;
  private readonly dataChecks: string[];
  private listeners: Array<(snapshot: Snapshot) => void> = [];
  private readonly host: HostConfig;
  private readonly builtins: ReadonlyMap<string, Builtin>;

  constructor(options: EngineOptions = {}) {
    this.maxMemoryPages = options.maxMemoryPages ?? 4096;
    this.dataChecks = options.dataChecks ?? [];
    this.host = options.host ?? {};
    this.builtins = hostBuiltins(this.host, { print: options.print });
  }

  current(): Snapshot {
    return this.snapshot;
  }

  evaluate(entrypoint: string, input: unknown): unknown {
    return this.snapshot.evaluate(entrypoint, input);
  }

  /** Called with every snapshot made active (a bundle activated or removed, new operator data); returns the unsubscribe. */
  onChange(listener: (snapshot: Snapshot) => void): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /** Makes a bundle active (replacing the one of the same name). Throws, leaving everything as it was, if it cannot serve. */
  activate(bundle: Bundle): Promise<Snapshot> {
    return this.serialize(async () => {
      for (const other of this.bundles.values()) {
        if (other.name !== bundle.name && rootsOverlap(other.manifest.roots, bundle.manifest.roots)) {
          throw new BundleError(bundle.name, `roots ${JSON.stringify(bundle.manifest.roots)} overlap those of bundle ${other.name}`);
        }
      }
      const next = new Map(this.bundles).set(bundle.name, bundle);
      return this.swap(next, this.overlay, bundle.name);
    });
  }

  deactivate(name: string): Promise<Snapshot> {
    return this.serialize(async () => {
      const next = new Map(this.bundles);
      next.delete(name);
      return this.swap(next, this.overlay);
    });
  }

  /** Replaces the operator data merged over the bundles' data (exemptions, allowlists) without rebuilding WASM. */
  setOverlay(overlay: DataObject): Promise<Snapshot> {
    return this.serialize(() => this.swap(this.bundles, overlay));
  }

  private serialize<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async swap(bundles: Map<string, Bundle>, overlay: DataObject, changed?: string): Promise<Snapshot> {
    let data: DataObject = {};
    for (const b of bundles.values()) data = mergeData(data, b.data);
    data = mergeData(data, overlay);
    const dataJson = Buffer.from(JSON.stringify(data));

    const targets = new Map<string, Target>();
    const source: SnapshotSource = { revisions: {}, data: dataJson, modules: [], host: this.host };
    for (const b of bundles.values()) {
      source.revisions[b.name] = b.manifest.revision;
      const policies = new Map<string, { policy: LoadedPolicy; entrypoints: string[] }>();
      for (const { entrypoint, module } of b.manifest.wasm) {
        let loaded = policies.get(module);
        if (!loaded) {
          loaded = { policy: await this.instantiate(b, module, dataJson, changed), entrypoints: [] };
          policies.set(module, loaded);
          source.modules.push({ bundle: b.name, wasm: b.modules.get(module) as WebAssembly.Module, entrypoints: loaded.entrypoints });
        }
        if (!(entrypoint in (loaded.policy.entrypoints as Record<string, number>))) {
          throw new BundleError(b.name, `${module} does not export entrypoint ${entrypoint}`);
        }
        if (targets.has(entrypoint)) throw new BundleError(b.name, `entrypoint ${entrypoint} is also provided by bundle ${targets.get(entrypoint)?.bundle}`);
        targets.set(entrypoint, { policy: loaded.policy, bundle: b.name });
        loaded.entrypoints.push(entrypoint);
      }
    }
    const snapshot = new Snapshot(targets, source.revisions, source);
    const problems = this.dataChecks.filter((c) => snapshot.has(c)).flatMap((c) => {
      const found = snapshot.evaluate(c, {});
      return Array.isArray(found) ? found.map(String) : [];
    });
    if (problems.length > 0) {
      if (changed) throw new BundleError(changed, `its data is refused: ${problems.join('; ')}`);
      throw new DataError(problems);
    }
    this.snapshot = snapshot;
    this.bundles = bundles;
    this.overlay = overlay;
    for (const l of this.listeners) l(snapshot);
    return this.snapshot;
  }

  private async instantiate(bundle: Bundle, module: string, data: Buffer, changed?: string): Promise<LoadedPolicy> {
    try {
      const wasm = bundle.modules.get(module);
      if (!wasm) throw new Error(`module ${module} was not compiled`);
      return await instantiate(wasm, data, this.maxMemoryPages, this.builtins);
    } catch (err) {
      if (err instanceof BundleError) throw err;
      if (err instanceof MissingBuiltinsError) throw new BundleError(bundle.name, `${module} cannot run: ${err.message}`, { cause: err });
      // Blame the bundle being activated when the failure is in another one's module only if this one changed the data.
      throw new BundleError(bundle.name, `${module} failed to instantiate${changed && changed !== bundle.name ? ` with the data of bundle ${changed}` : ''}: ${(err as Error).message}`, { cause: err });
    }
  }
}

/** The same Snapshot in another thread, from what the original was built of (already checked there). */
export async function snapshotFrom(source: SnapshotSource, maxMemoryPages: number): Promise<Snapshot> {
  const targets = new Map<string, Target>();
  const builtins = hostBuiltins(source.host);
  for (const m of source.modules) {
    const policy = await instantiate(m.wasm, source.data, maxMemoryPages, builtins);
    for (const entrypoint of m.entrypoints) targets.set(entrypoint, { policy, bundle: m.bundle });
  }
  return new Snapshot(targets, source.revisions, source);
}

async function instantiate(wasm: WebAssembly.Module, data: Uint8Array, maxMemoryPages: number, builtins: ReadonlyMap<string, Builtin>): Promise<LoadedPolicy> {
  // The whole memory at once: it is only address space until pages are touched, and OPA's allocator
  // otherwise grows it a page (64 KiB) at a time, each grow costing ~1 ms once it is large: a Pod with
  // 16,000 containers spent 18 of its 20 s growing memory.
  const policy = await instantiatePolicy(wasm, { initial: maxMemoryPages, maximum: maxMemoryPages }, builtins);
  policy.setData(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer);
  return policy;
}

/** opa-wasm throws strings (opa_abort: "illegal string escape character", "opa_malloc: failed") and plain objects, not Errors. */
function thrownMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  const message = (err as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(err);
}
