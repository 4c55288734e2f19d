import { base64Builtins } from './base64.js';
import type { Builtin } from './builtin.js';
import { jwtBuiltins } from './jwt.js';
import { stringBuiltins } from './strings.js';
import { timeBuiltins } from './time.js';

/** What the host builtins may do beyond computing: nothing yet but what the configuration allows. */
export interface HostConfig {}

/** Every host builtin Portcullis provides to policies, by OPA name. */
export function hostBuiltins(_config: HostConfig): Map<string, Builtin> {
  return new Map(Object.entries({ ...base64Builtins, ...jwtBuiltins, ...stringBuiltins, ...timeBuiltins }));
}
