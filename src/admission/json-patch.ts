import { parsePointer } from '../policy/json-pointer.js';
import { schemaValidator } from '../schema/validator.js';

/** One RFC 6902 operation. */
export type PatchOp =
  | { op: 'add' | 'replace' | 'test'; path: string; value: unknown }
  | { op: 'remove'; path: string }
  | { op: 'move' | 'copy'; from: string; path: string };

export class PatchError extends Error {
  override name = 'PatchError';
}

const OpSchema = {
  type: 'array',
  items: {
    type: 'object',
    required: ['op', 'path'],
    properties: {
      op: { enum: ['add', 'remove', 'replace', 'move', 'copy', 'test'] },
      path: { type: 'string', pattern: '^(/.*)?$' },
      from: { type: 'string', pattern: '^(/.*)?$' },
    },
    allOf: [
      { if: { properties: { op: { enum: ['add', 'replace', 'test'] } } }, then: { required: ['value'] } },
      { if: { properties: { op: { enum: ['move', 'copy'] } } }, then: { required: ['from'] } },
    ],
  },
} as const;

const validateOps = schemaValidator<PatchOp[]>(OpSchema);

/** Checks that a value (from the policy) is a list of RFC 6902 operations. */
export function asPatch(value: unknown): PatchOp[] {
  if (!validateOps(value)) {
    const e = validateOps.errors?.[0];
    throw new PatchError(`not a JSON Patch: ${e?.instancePath || '(root)'} ${e?.message ?? ''}`.trim());
  }
  return value as PatchOp[];
}


type Container = Record<string, unknown> | unknown[];

function isContainer(v: unknown): v is Container {
  return v !== null && typeof v === 'object';
}

/**
 * Applies operations without touching `doc`: only the objects and arrays on each changed path are copied,
 * the rest is shared. Throws PatchError, as the API server would refuse the patch, when one does not apply.
 */
export function applyPatch(doc: unknown, ops: readonly PatchOp[]): unknown {
  let out = doc;
  for (const [i, op] of ops.entries()) {
    try {
      out = applyOne(out, op);
    } catch (err) {
      if (err instanceof PatchError) throw new PatchError(`operation ${i} (${op.op} ${op.path}): ${err.message}`);
      throw err;
    }
  }
  return out;
}

function applyOne(doc: unknown, op: PatchOp): unknown {
  switch (op.op) {
    case 'add':
      return update(doc, parsePointer(op.path), (parent, key) => insert(parent, key, op.value));
    case 'remove':
      return update(doc, parsePointer(op.path), (parent, key) => removeAt(parent, key));
    case 'replace':
      return update(doc, parsePointer(op.path), (parent, key) => {
        removeAt(parent, key);
        insert(parent, key, op.value);
      });
    case 'test': {
      if (!deepEqual(get(doc, parsePointer(op.path)), op.value)) throw new PatchError('test failed: the value differs');
      return doc;
    }
    case 'copy':
      return applyOne(doc, { op: 'add', path: op.path, value: get(doc, parsePointer(op.from)) });
    case 'move': {
      if (op.path.startsWith(`${op.from}/`)) throw new PatchError('cannot move a value into itself');
      const value = get(doc, parsePointer(op.from));
      return applyOne(applyOne(doc, { op: 'remove', path: op.from }), { op: 'add', path: op.path, value });
    }
  }
}

function get(doc: unknown, path: string[]): unknown {
  let node = doc;
  for (const key of path) {
    if (Array.isArray(node)) {
      const i = arrayIndex(key, node.length - 1);
      node = node[i];
    } else if (isContainer(node) && Object.hasOwn(node, key)) {
      node = (node as Record<string, unknown>)[key];
    } else {
      throw new PatchError(`path /${path.join('/')} does not exist`);
    }
  }
  return node;
}

/** Copies every container from the root down to the parent of the target, then lets `change` edit the parent copy. */
function update(doc: unknown, path: string[], change: (parent: Container, key: string) => void): unknown {
  if (path.length === 0) throw new PatchError('operations on the whole document are not supported');
  const root = shallowCopy(doc);
  let node = root;
  for (const key of path.slice(0, -1)) {
    const child = Array.isArray(node) ? node[arrayIndex(key, node.length - 1)] : Object.hasOwn(node, key) ? (node as Record<string, unknown>)[key] : undefined;
    if (!isContainer(child)) throw new PatchError(`path /${path.join('/')} does not exist`);
    const copy = shallowCopy(child);
    if (Array.isArray(node)) node[Number(key)] = copy;
    else node[key] = copy;
    node = copy;
  }
  change(node, path[path.length - 1] as string);
  return root;
}

function shallowCopy(v: unknown): Container {
  if (Array.isArray(v)) return [...v];
  if (isContainer(v)) return { ...v };
  throw new PatchError('the parent is not an object or an array');
}

function insert(parent: Container, key: string, value: unknown): void {
  if (Array.isArray(parent)) {
    const i = key === '-' ? parent.length : arrayIndex(key, parent.length);
    parent.splice(i, 0, value);
  } else {
    // defineProperty keeps "__proto__" an ordinary key instead of changing the prototype.
    Object.defineProperty(parent, key, { value, enumerable: true, writable: true, configurable: true });
  }
}

function removeAt(parent: Container, key: string): void {
  if (Array.isArray(parent)) {
    parent.splice(arrayIndex(key, parent.length - 1), 1);
  } else {
    if (!Object.hasOwn(parent, key)) throw new PatchError(`member ${JSON.stringify(key)} does not exist`);
    delete parent[key];
  }
}

function arrayIndex(key: string, max: number): number {
  if (!/^(0|[1-9][0-9]*)$/.test(key)) throw new PatchError(`${JSON.stringify(key)} is not an array index`);
  const i = Number(key);
  if (i > max) throw new PatchError(`index ${i} is out of bounds`);
  return i;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (!isContainer(a) || !isContainer(b) || Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
