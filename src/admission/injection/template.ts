/**
 * The sidecar template: YAML parsed once, then rendered per Pod by substituting `{{ dotted.path }}`
 * placeholders in string values. Substitution happens on the parsed tree, never on the text, so a value
 * can not inject YAML structure, and nothing is evaluated:
 *   - a string that is exactly one placeholder takes the value as it is (a number, an object, a list);
 *     null removes the key or list item, so optional settings can be left out;
 *   - placeholders inside a longer string are replaced by the text of a string, number or boolean.
 * A path naming a field the context does not have is an error, found when the template is loaded.
 */
export class TemplateError extends Error {
  override name = 'TemplateError';
}

export type Context = Record<string, unknown>;
type Render = (ctx: Context) => unknown;

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_-]+)*)\s*\}\}/g;
const WHOLE = /^\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_-]+)*)\s*\}\}$/;
/** Marks a value that removes its key or item. */
const OMIT = Symbol('omit');

export function compileTemplate(doc: unknown): (ctx: Context) => unknown {
  const render = compileNode(doc, '');
  return (ctx) => {
    const out = render(ctx);
    return out === OMIT ? null : out;
  };
}

/** The placeholders a template uses, as dotted paths ("pod.namespace"): what its renderings depend on. */
export function placeholderPaths(doc: unknown): Set<string> {
  const paths = new Set<string>();
  const visit = (node: unknown): void => {
    if (typeof node === 'string') for (const m of node.matchAll(PLACEHOLDER)) paths.add(m[1] as string);
    else if (Array.isArray(node)) node.forEach(visit);
    else if (node !== null && typeof node === 'object') Object.values(node).forEach(visit);
  };
  visit(doc);
  return paths;
}

function compileNode(node: unknown, where: string): Render {
  if (typeof node === 'string') return compileString(node, where);
  if (Array.isArray(node)) {
    const items = node.map((item, i) => compileNode(item, `${where}[${i}]`));
    return (ctx) => {
      const out: unknown[] = [];
      for (const item of items) {
        const v = item(ctx);
        if (v !== OMIT) out.push(v);
      }
      return out;
    };
  }
  if (node !== null && typeof node === 'object') {
    const entries = Object.entries(node).map(([k, v]) => [k, compileNode(v, where ? `${where}.${k}` : k)] as const);
    // A "__proto__" key must become an own property, not the object's prototype; defining every property
    // that way costs a tenth of an injection, so only a mapping that has one pays for it.
    const define = entries.some(([k]) => k === '__proto__');
    return (ctx) => {
      const out: Record<string, unknown> = {};
      for (const [k, render] of entries) {
        const v = render(ctx);
        if (v === OMIT) continue;
        if (define) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
        else out[k] = v;
      }
      return out;
    };
  }
  return () => node;
}

function compileString(s: string, where: string): Render {
  const whole = WHOLE.exec(s);
  if (whole) {
    const path = (whole[1] as string).split('.');
    return (ctx) => {
      const v = lookup(ctx, path, where);
      return v === null || v === undefined ? OMIT : v;
    };
  }
  if (!s.includes('{{')) return () => s;
  const parts: Array<string | string[]> = [];
  let last = 0;
  for (const m of s.matchAll(PLACEHOLDER)) {
    parts.push(s.slice(last, m.index), (m[1] as string).split('.'));
    last = m.index + m[0].length;
  }
  parts.push(s.slice(last));
  if (parts.some((p) => typeof p === 'string' && p.includes('{{'))) throw new TemplateError(`${where || '(root)'}: malformed placeholder in ${JSON.stringify(s)}`);
  return (ctx) => {
    let out = '';
    for (const p of parts) {
      if (typeof p === 'string') {
        out += p;
        continue;
      }
      const v = lookup(ctx, p, where);
      if (v === null || v === undefined) continue;
      if (typeof v === 'object') throw new TemplateError(`${where}: {{ ${p.join('.')} }} is not text and cannot be part of ${JSON.stringify(s)}`);
      out += String(v);
    }
    return out;
  };
}

function lookup(ctx: Context, path: string[], where: string): unknown {
  let node: unknown = ctx;
  for (const key of path) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) {
      throw new TemplateError(`${where || '(root)'}: unknown placeholder {{ ${path.join('.')} }}`);
    }
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}
