/** A JSON object, the shape of OPA's data document and of every subtree of it. */
export type DataObject = { [key: string]: unknown };

export function isObject(v: unknown): v is DataObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Merges `overlay` onto `base` without changing either: objects merge key by key, anything else in the
 * overlay replaces what the base had. This is how operator data overrides bundle defaults.
 */
export function mergeData(base: DataObject, overlay: DataObject): DataObject {
  const out: DataObject = { ...base };
  for (const [key, value] of Object.entries(overlay)) {
    const prev = out[key];
    out[key] = isObject(prev) && isObject(value) ? mergeData(prev, value) : value;
  }
  return out;
}

/** Places `value` at a slash path inside `doc`; returns an error message when the path is already taken. */
export function insertAt(doc: DataObject, path: string[], value: unknown): string | undefined {
  let node = doc;
  for (const [i, key] of path.entries()) {
    const last = i === path.length - 1;
    const next = node[key];
    if (last) {
      if (next === undefined) node[key] = value;
      else if (isObject(next) && isObject(value)) node[key] = mergeData(next, value);
      else return `data at /${path.join('/')} is defined twice`;
    } else if (next === undefined) {
      node = node[key] = {} as DataObject;
    } else if (isObject(next)) {
      node = next;
    } else {
      return `data at /${path.slice(0, i + 1).join('/')} is not an object`;
    }
  }
  return undefined;
}
