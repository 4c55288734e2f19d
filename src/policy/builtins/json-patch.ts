// OPA's json.patch (topdown/json.go over internal/edittree): RFC 6902 operations applied in order, with
// OPA's readings of a path (a JSON pointer, or an array of segments; sets addressed by their elements,
// "-" past an array's end) and its errors, each an undefined result. Values are updated without
// mutation: a set's element changed inside is replaced by its new value.
import { RegoSet } from '../value/exact.js';
import { RawNumber } from '../value/raw-number.js';
import { compareValues, numberText } from '../value/rego-order.js';
import { arr, BuiltinError, typeName, type Builtin } from './builtin.js';

const equal = (a: unknown, b: unknown) => compareValues(a, b) === 0;

/** A JSON pointer ("/a/b~1c", every leading "/" dropped) or an array of segments. */
function parsePath(v: unknown): unknown[] {
  if (typeof v === 'string') {
    if (v === '') return [];
    return v
      .replace(/^\/+/, '')
      .split('/')
      .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'));
  }
  if (Array.isArray(v)) return v;
  throw new BuiltinError(`operand 2 must be one of {set, array} containing string paths or array of path segments but got ${typeName(v)}`);
}

/** edittree's toIndex: an integer, an integer string without leading zeros, or "-" for the end. */
function toIndex(length: number, key: unknown): number {
  let text: string;
  if (typeof key === 'number' || key instanceof RawNumber) text = numberText(key);
  else if (typeof key === 'string') {
    if (key === '-') return length;
    text = key;
    if (!/^[+-]?[0-9]+$/.test(text)) throw new BuiltinError('invalid string for indexing');
    if (key !== '0' && key.startsWith('0')) throw new BuiltinError('leading zeros are not allowed in JSON paths');
  } else throw new BuiltinError('invalid type for indexing');
  if (!/^[+-]?[0-9]+$/.test(text)) throw new BuiltinError('invalid number type for indexing');
  const i = Number(text);
  if (!Number.isSafeInteger(i)) throw new BuiltinError('invalid number type for indexing');
  return i;
}

function objectKey(key: unknown): string {
  // Non-string keys are held as their JSON text, as the policy's WebAssembly writes them.
  return typeof key === 'string' ? key : JSON.stringify(key instanceof RawNumber ? Number(key.text) : key);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeName(v) === 'object';
}

/** The child at one segment, which must exist. */
function child(container: unknown, key: unknown): unknown {
  if (isObject(container)) {
    if (typeof key !== 'string' || !Object.hasOwn(container, key)) throw new BuiltinError(`path ${String(key)} does not exist in object`);
    return container[key];
  }
  if (container instanceof RegoSet) {
    const found = container.items.find((x) => equal(x, key));
    if (found === undefined) throw new BuiltinError('path does not exist in set');
    return found;
  }
  if (Array.isArray(container)) {
    const i = toIndex(container.length, key);
    if (i < 0 || i >= container.length) throw new BuiltinError(`path ${i} does not exist in array`);
    return container[i];
  }
  throw new BuiltinError(`expected composite type for path ${String(key)}, found value of type ${typeName(container)}`);
}

/** The container with the child at key replaced by value (the key known to exist). */
function replaceChild(container: unknown, key: unknown, old: unknown, value: unknown): unknown {
  if (isObject(container)) return { ...container, [key as string]: value };
  if (container instanceof RegoSet) return new RegoSet([...container.items.filter((x) => !equal(x, old)), value]);
  const list = [...(container as unknown[])];
  list[toIndex(list.length, key)] = value;
  return list;
}

/** Applies edit to the value at path, rebuilding each container above it. */
function update(doc: unknown, path: unknown[], edit: (target: unknown) => unknown): unknown {
  if (path.length === 0) return edit(doc);
  const [key, ...rest] = path;
  const old = child(doc, key);
  return replaceChild(doc, key, old, update(old, rest, edit));
}

function get(doc: unknown, path: unknown[]): unknown {
  return path.reduce((at, key) => child(at, key), doc);
}

function insert(container: unknown, key: unknown, value: unknown): unknown {
  if (isObject(container)) return { ...container, [objectKey(key)]: value };
  if (container instanceof RegoSet) {
    if (!equal(key, value)) throw new BuiltinError('set key does not equal value to be inserted');
    return new RegoSet([...container.items.filter((x) => !equal(x, value)), value]);
  }
  if (Array.isArray(container)) {
    const i = toIndex(container.length, key);
    if (i < 0 || i > container.length) throw new BuiltinError('index for array insertion out of bounds');
    return [...container.slice(0, i), value, ...container.slice(i)];
  }
  throw new BuiltinError(`expected composite type, found ${typeName(container)}`);
}

function remove(container: unknown, key: unknown): unknown {
  if (isObject(container)) {
    if (typeof key !== 'string' || !Object.hasOwn(container, key)) throw new BuiltinError(`cannot delete child key ${String(key)} that does not exist`);
    const { [key]: _removed, ...rest } = container;
    return rest;
  }
  if (container instanceof RegoSet) {
    if (!container.items.some((x) => equal(x, key))) throw new BuiltinError('cannot delete a set element that does not exist');
    return new RegoSet(container.items.filter((x) => !equal(x, key)));
  }
  if (Array.isArray(container)) {
    const i = toIndex(container.length, key);
    if (i < 0 || i > container.length - 1) throw new BuiltinError('index for array delete out of bounds');
    return [...container.slice(0, i), ...container.slice(i + 1)];
  }
  throw new BuiltinError(`expected composite type, found ${typeName(container)}`);
}

/** Marks a document removed at its root: OPA's Go dereferences nil when it is returned. */
const REMOVED = Symbol('removed');

function addAt(doc: unknown, path: unknown[], value: unknown): unknown {
  if (path.length === 0) return value;
  if (doc === REMOVED) throw new BuiltinError('deleted node encountered during insert operation');
  return update(doc, path.slice(0, -1), (c) => insert(c, path[path.length - 1], value));
}

function removeAt(doc: unknown, path: unknown[]): unknown {
  if (doc === REMOVED) throw new BuiltinError('deleted node encountered during delete operation');
  if (path.length === 0) return REMOVED;
  return update(doc, path.slice(0, -1), (c) => remove(c, path[path.length - 1]));
}

function getAt(doc: unknown, path: unknown[]): unknown {
  if (doc === REMOVED) throw new BuiltinError('nil value encountered where composite value was expected');
  return get(doc, path);
}

function field(op: Record<string, unknown>, name: string): unknown {
  if (!Object.hasOwn(op, name)) throw new BuiltinError(`missing required attribute '${name}'`);
  return op[name];
}

function patch(args: unknown[]): unknown {
  const operations = arr(args, 1);
  let doc: unknown = args[0];
  for (const op of operations) {
    if (!isObject(op)) throw new BuiltinError('must be an array of JSON-Patch objects, but at least one element is not an object');
    if (!Object.hasOwn(op, 'path')) throw new BuiltinError("missing required attribute 'path'");
    const name = field(op, 'op');
    if (typeof name !== 'string') throw new BuiltinError(`attribute 'op' must be a string but found: ${typeName(name)}`);
    const path = parsePath(op.path);
    switch (name) {
      case 'add':
        doc = addAt(doc, path, field(op, 'value'));
        break;
      case 'remove':
        doc = removeAt(doc, path);
        break;
      case 'replace':
        doc = removeAt(doc, path);
        doc = addAt(doc, path, field(op, 'value'));
        break;
      case 'move': {
        const from = parsePath(field(op, 'from'));
        const chunk = getAt(doc, from);
        doc = addAt(removeAt(doc, from), path, chunk);
        break;
      }
      case 'copy': {
        const from = parsePath(field(op, 'from'));
        doc = addAt(doc, path, getAt(doc, from));
        break;
      }
      case 'test': {
        const chunk = getAt(doc, path);
        if (!equal(chunk, field(op, 'value'))) throw new BuiltinError('value from EditTree != patch value');
        break;
      }
      default:
        throw new BuiltinError(`unrecognized op: '${name}'`);
    }
  }
  if (doc === REMOVED) throw new BuiltinError('json.patch: the whole document was removed (OPA fails here too)');
  return doc;
}

export const jsonPatchBuiltins: Record<string, Builtin> = {
  'json.patch': patch,
};
