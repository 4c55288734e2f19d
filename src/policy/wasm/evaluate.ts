import type { LoadedPolicy } from '@open-policy-agent/opa-wasm';
import { needsExact, parseExact } from '../value/exact.js';
import { stringify } from '../value/raw-number.js';
import { withEvaluation } from './instance.js';

/** What opa-wasm's LoadedPolicy holds after loading: the instance and its memory, data and heap pointers. */
interface PolicyInternals {
  minorVersion: number;
  mem: { buffer: ArrayBuffer; grow(pages: number): number };
  wasmInstance: {
    exports: {
      opa_eval(reserved: number, entrypoint: number, data: number, input: number, inputLength: number, heap: number, format: number): number;
      opa_heap_ptr_get(): number;
    };
  };
  dataAddr: number;
  dataHeapPtr: number;
  entrypoints: Record<string, number>;
}

const PAGE = 64 * 1024;
const peaks = new WeakMap<LoadedPolicy, number>();

/** Bytes of the policy's memory that evaluations have touched so far (resident from then on), 0 before any. */
export function peakMemoryBytes(policy: LoadedPolicy): number {
  return peaks.get(policy) ?? 0;
}

/**
 * The ABI 1.2 `opa_eval` call that LoadedPolicy.evaluate makes, without its per-call garbage: the input JSON
 * is encoded straight into the policy's linear memory (no intermediate Uint8Array, no new TextEncoder), and
 * the result's end is found natively instead of byte by byte in JavaScript. On a 5 KB AdmissionReview that
 * is a tenth of the evaluation's cost and one ArrayBuffer less per decision for the garbage collector.
 * Numbers travel as OPA keeps them: RawNumbers in the input are written as their text, and a result
 * number a double cannot hold comes back as a RawNumber when the caller asks for `exact` results (the
 * authz door, whose answers must carry numbers as OPA's do). Each call is one evaluation for the host
 * builtins (one clock). Policies built for an older ABI take the library's own path. `serialized` is the
 * input's JSON when the caller already has it.
 */
export function evaluateJson(policy: LoadedPolicy, entrypoint: string, input: unknown, serialized?: string, exact = false): Array<{ result?: unknown }> {
  const p = policy as unknown as PolicyInternals;
  if (!(p.minorVersion >= 2)) return withEvaluation(() => policy.evaluate(input, entrypoint) as Array<{ result?: unknown }>);
  const id = p.entrypoints[entrypoint];
  if (id === undefined) throw new Error(`entrypoint ${entrypoint} is not valid in this instance`);
  // opa-wasm passes a missing input as no input at all (address 0), which the policy sees as undefined.
  const json = input === undefined || input === null ? undefined : (serialized ?? stringify(input));
  const addr = p.dataHeapPtr;
  let length = 0;
  if (json !== undefined) {
    length = Buffer.byteLength(json);
    const missing = addr + length - p.mem.buffer.byteLength;
    if (missing > 0) p.mem.grow(Math.ceil(missing / PAGE));
    Buffer.from(p.mem.buffer, addr, length).write(json);
  }
  const result = withEvaluation(() => p.wasmInstance.exports.opa_eval(0, id, p.dataAddr, json === undefined ? 0 : addr, length, addr + length, 0));
  // The allocator only moves its top past memory it has not used yet: the top is the most ever touched.
  const top = p.wasmInstance.exports.opa_heap_ptr_get();
  if (top > (peaks.get(policy) ?? 0)) peaks.set(policy, top);
  const memory = Buffer.from(p.mem.buffer);
  const text = memory.toString('utf8', result, memory.indexOf(0, result));
  return (exact && needsExact(text) ? parseExact(text) : JSON.parse(text)) as Array<{ result?: unknown }>;
}
