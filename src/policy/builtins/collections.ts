import { RegoSet } from '../value/exact.js';
import { compareValues, regoSet, sortedItems } from '../value/rego-order.js';
import { BuiltinError, items, obj, typeName, type Builtin } from './builtin.js';

const equal = (a: unknown, b: unknown) => compareValues(a, b) === 0;
const kind = (v: unknown) => typeName(v);

function setHas(s: unknown[], v: unknown): boolean {
  return s.some((x) => equal(x, v));
}

/** object.subset as OPA has it: objects recursively, sets by membership, arrays as contiguous runs, an array over a set by membership. */
function subset(sup: unknown, sub: unknown): boolean {
  if (kind(sup) === 'object' && kind(sub) === 'object') {
    const a = sup as Record<string, unknown>;
    const b = sub as Record<string, unknown>;
    return Object.keys(b).every((k) => {
      if (!Object.hasOwn(a, k)) return false;
      const x = a[k];
      const y = b[k];
      if (equal(x, y)) return true;
      const kx = kind(x);
      if (kx === kind(y) && (kx === 'object' || kx === 'set' || kx === 'array')) return subset(x, y);
      return false;
    });
  }
  if (sup instanceof RegoSet && sub instanceof RegoSet) return sub.items.every((x) => setHas(sup.items, x));
  if (Array.isArray(sup) && Array.isArray(sub)) {
    if (sub.length > sup.length) return false;
    if (sub.length === 0) return true;
    for (let start = 0; start + sub.length <= sup.length; start++) if (sub.every((x, i) => equal(sup[start + i], x))) return true;
    return false;
  }
  if (Array.isArray(sup) && sub instanceof RegoSet) {
    let unmatched = sub.items.length;
    if (unmatched === 0) return false;
    for (const x of sup) {
      if (setHas(sub.items, x)) unmatched--;
      if (unmatched === 0) return true;
    }
    return false;
  }
  throw new BuiltinError('both arguments object.subset must be of the same type or array and set');
}

/** graph.reachable_paths as OPA walks it: from each initial node along its edges, a path ending where a node has no edges, is not in the graph, or would repeat. */
function reachablePaths(args: unknown[]): RegoSet {
  const graph = obj(args, 0);
  const initial = args[1] instanceof RegoSet ? sortedItems(args[1]) : items(args, 1);
  const edges = (node: unknown): unknown[] | undefined => {
    if (typeof node !== 'string' || !Object.hasOwn(graph, node)) return undefined;
    const e = graph[node];
    return Array.isArray(e) ? e : e instanceof RegoSet ? sortedItems(e) : [];
  };
  const paths: unknown[][] = [];
  const build = (root: unknown, path: unknown[], reached: unknown[]) => {
    const out = edges(root);
    if (out === undefined) {
      paths.push(path);
      return;
    }
    const next = [...path, root];
    if (out.length === 0) {
      paths.push(next);
      return;
    }
    const seen = [...reached, root];
    for (const n of out) {
      if (seen.some((r) => equal(r, n))) paths.push(next);
      else build(n, next, seen);
    }
  };
  for (const node of initial) {
    const out = edges(node);
    if (out === undefined) continue;
    if (out.length === 0) paths.push([node]);
    else for (const n of out) build(n, [node], [node]);
  }
  return regoSet(paths);
}

const cast = (accept: (v: unknown) => unknown) => (args: unknown[]) => {
  const r = accept(args[0]);
  if (r === undefined) throw new BuiltinError(`operand 1 cannot be cast: ${typeName(args[0])}`);
  return r;
};

export const collectionBuiltins: Record<string, Builtin> = {
  'object.subset': (args) => subset(args[0], args[1]),
  'graph.reachable_paths': reachablePaths,
  cast_array: cast((v) => (Array.isArray(v) ? v : v instanceof RegoSet ? sortedItems(v) : undefined)),
  cast_set: cast((v) => (Array.isArray(v) ? regoSet(v) : v instanceof RegoSet ? v : undefined)),
  cast_string: cast((v) => (typeof v === 'string' ? v : undefined)),
  cast_boolean: cast((v) => (typeof v === 'boolean' ? v : undefined)),
  cast_null: cast((v) => (v === null ? null : undefined)),
  cast_object: cast((v) => (typeName(v) === 'object' ? v : undefined)),
};
