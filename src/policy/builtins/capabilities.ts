import { WASM_NATIVE_BUILTINS } from '../wasm/native-builtins.js';
import { hostBuiltins } from './host.js';

/** OPA's capabilities document (`opa capabilities --current`), the parts Portcullis filters. */
export interface Capabilities {
  builtins: Array<{ name: string }>;
  [field: string]: unknown;
}

/** Every builtin a policy can call under Portcullis: those compiled into the WebAssembly and those the host provides. */
export function providedBuiltins(): Set<string> {
  // The network builtins are listed: whether they may run is the operator's choice, checked at load time.
  return new Set([...WASM_NATIVE_BUILTINS, ...hostBuiltins({}, { all: true }).keys()]);
}

/**
 * OPA's capabilities cut down to what Portcullis can run, for `opa build --capabilities`: a policy calling
 * anything else fails to build, with OPA's own "undefined function" error and position, instead of being
 * refused when it is loaded.
 */
export function portcullisCapabilities(opa: Capabilities): Capabilities {
  const provided = providedBuiltins();
  return { ...opa, builtins: opa.builtins.filter((b) => provided.has(b.name)) };
}
