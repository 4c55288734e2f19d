import { RegoSet } from '../value/exact.js';
import { sortedItems } from '../value/rego-order.js';
import type { Builtin } from './builtin.js';
import { regoText } from './strings.js';

/** Where print() output goes: the service log, as opa-envoy-plugin logs it. */
export type PrintHook = (message: string) => void;

/**
 * print, trace and opa.runtime. print never fails an expression (an undefined argument prints as
 * <undefined>); trace only matters to OPA's tracer, so it is true; opa.runtime is an empty object, as
 * under OPA without runtime information: the process environment and configuration stay out of policies.
 */
export function debugBuiltins(print: PrintHook | undefined): Record<string, Builtin> {
  return {
    'internal.print': (args) => {
      if (print) {
        const operands = Array.isArray(args[0]) ? args[0] : [];
        print(
          operands
            .map((o) => {
              const values = o instanceof RegoSet ? sortedItems(o) : [o];
              if (values.length === 0) return '<undefined>';
              return values.map((v) => (typeof v === 'string' ? v : regoText(v))).join(', ');
            })
            .join(' '),
        );
      }
      return true;
    },
    trace: () => true,
    'opa.runtime': () => ({}),
  };
}
