import { createRequire } from 'node:module';
import type { LoadedPolicy } from '@open-policy-agent/opa-wasm';
import { BuiltinError, Evaluation, type Builtin } from '../builtins/builtin.js';
import { NOT_PROVIDED } from '../builtins/host.js';
import { formatRego, parseRegoValue } from '../value/exact.js';
import { NATIVE_OVERRIDES } from './natives.js';

/** A policy that calls host builtins Portcullis does not provide: it could not decide, so it is never loaded. */
export class MissingBuiltinsError extends Error {
  constructor(readonly builtins: string[]) {
    super(`it calls builtins that Portcullis does not provide: ${builtins.map((b) => (NOT_PROVIDED[b] ? `${b} (${NOT_PROVIDED[b]})` : b)).join(', ')}`);
    this.name = 'MissingBuiltinsError';
  }
}

interface Exports {
  builtins(): number;
  opa_value_dump(value: number): number;
  opa_value_parse(addr: number, length: number): number;
  opa_malloc(length: number): number;
  opa_json_dump(value: number): number;
  opa_wasm_abi_version?: WebAssembly.Global;
  opa_wasm_abi_minor_version?: WebAssembly.Global;
}

// The SDK's ESM entry exports loadPolicy only; its CommonJS one has the class too.
const LoadedPolicyClass = (createRequire(import.meta.url)('@open-policy-agent/opa-wasm') as { LoadedPolicy: new (policy: unknown, memory: unknown, minor: unknown) => LoadedPolicy }).LoadedPolicy;

/** The evaluation under way, for the builtins it calls (evaluations never interleave on one thread). */
let current: Evaluation | undefined;

/** Runs one policy evaluation with its own clock and memo for the builtins it calls. */
export function withEvaluation<T>(run: () => T): T {
  const outer = current;
  current = new Evaluation();
  try {
    return run();
  } finally {
    current = outer;
  }
}

/**
 * Instantiates a policy module with Portcullis as its host, instead of the SDK's loadPolicy: the SDK's own
 * builtins take precedence over custom ones and lose sets on the way (JSON only), and it only finds a
 * missing builtin when an evaluation calls it. Here every builtin the module names must be in `builtins`
 * (else MissingBuiltinsError), arguments and results cross in OPA's value notation, and the SDK's
 * LoadedPolicy does the rest (data, entrypoints).
 */
export async function instantiatePolicy(module: WebAssembly.Module, memory: WebAssembly.MemoryDescriptor, builtins: ReadonlyMap<string, Builtin>): Promise<LoadedPolicy> {
  const mem = new WebAssembly.Memory(memory);
  const table = new Map<number, { name: string; fn: Builtin }>();
  let exports: Exports | undefined;

  const cstring = (addr: number): string => {
    const bytes = new Uint8Array(mem.buffer);
    return Buffer.from(mem.buffer).toString('utf8', addr, bytes.indexOf(0, addr));
  };
  const dispatch = (id: number, ...args: number[]): number => {
    const entry = table.get(id);
    const ex = exports as Exports;
    if (!entry) throw new Error(`host builtin ${id} is not known`);
    const values = args.map((a) => parseRegoValue(cstring(ex.opa_value_dump(a))));
    let result: unknown;
    try {
      result = entry.fn(values, current ?? new Evaluation());
    } catch (err) {
      if (err instanceof BuiltinError) return 0;
      throw new Error(`${entry.name}: ${(err as Error).message}`, { cause: err });
    }
    if (result === undefined) return 0;
    const text = Buffer.from(formatRego(result));
    const addr = ex.opa_malloc(text.length);
    new Uint8Array(mem.buffer).set(text, addr);
    const value = ex.opa_value_parse(addr, text.length);
    if (value === 0) throw new Error(`${entry.name}: its result could not be read back`);
    return value;
  };
  const imports = {
    env: {
      memory: mem,
      opa_abort: (addr: number) => {
        throw new Error(cstring(addr));
      },
      // OPA's debug output from the C library, never used by compiled policies.
      opa_println: () => undefined,
      opa_builtin0: (id: number) => dispatch(id),
      opa_builtin1: (id: number, _ctx: number, a: number) => dispatch(id, a),
      opa_builtin2: (id: number, _ctx: number, a: number, b: number) => dispatch(id, a, b),
      opa_builtin3: (id: number, _ctx: number, a: number, b: number, c: number) => dispatch(id, a, b, c),
      opa_builtin4: (id: number, _ctx: number, a: number, b: number, c: number, d: number) => dispatch(id, a, b, c, d),
    },
  };
  const instance = await WebAssembly.instantiate(module, imports);
  exports = instance.exports as unknown as Exports;
  const abi = exports.opa_wasm_abi_version?.value;
  if (abi !== 1) throw new Error(`unsupported ABI version ${String(abi)}`);

  const needed = JSON.parse(cstring(exports.opa_json_dump(exports.builtins()))) as Record<string, number>;
  const missing: string[] = [];
  for (const [name, id] of Object.entries(needed)) {
    const fn = builtins.get(name);
    if (fn) table.set(id, { name, fn });
    else missing.push(name);
  }
  if (missing.length > 0) throw new MissingBuiltinsError(missing.sort());
  for (const o of NATIVE_OVERRIDES) {
    const fn = builtins.get(o.builtin);
    if (fn) table.set(o.id, { name: o.builtin, fn });
  }
  return new LoadedPolicyClass({ instance, module }, mem, exports.opa_wasm_abi_minor_version?.value);
}
