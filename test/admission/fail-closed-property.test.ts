// Fail closed by construction, as a property: no violation may vanish because a value has an unexpected
// type. For every deny row (test/fixtures/deny, test/fixtures/attack: every rule's refused objects, picked up
// without code), each field on the path to the violation (what details.field names, and the row's own
// paths) and each field beside it (the container's name, the image, a sibling setting) is replaced by each
// JSON type and removed, and for Istio kinds respelled as Istio also reads it (proto field names, enum
// numbers). The decisions go through decide(), the validating webhook's own path, with the shipped bundle.
//
// What must hold, per replacement:
//   - a value of another JSON type (string, number, boolean, list, object) where the row had one: refused
//     (where the row has null, as in a null list item, the field's type is unknown: any value there is
//     decided but not held);
//   - null: as an object field it means "not set" to Kubernetes and to Istio alike, so it is decided as the
//     field's removal is; as a list item or a map value it is a wrong type: refused;
//   - anything beside the path, removal included: refused, and still reported by the row's rule (its own field
//     is untouched, so its violation must not vanish: a container without a name is still privileged).
//     Fields that decide whether a rule applies at all (an AuthorizationPolicy's action, a DestinationRule's
//     host) are on the path: the row lists them in `paths`;
//   - a proto field name or an enum number: the same rules refuse it as the row as written.
// Removing a field on the path, emptying a list or object there, or another value of the same type can be a
// real fix (no capabilities added, no port-level settings, a ServiceAccount of its own), so it is decided but
// not held to a verdict; so is any value in place of the one object-schema names, since that one is the
// wrong type already. Every refusal must be a
// policy decision, never an evaluation error.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { decide, type DecideDeps } from '../../src/admission/decide.js';
import { Injector } from '../../src/admission/injection/injector.js';
import { readArchive } from '../../src/policy/bundle/archive.js';
import { loadBundle } from '../../src/policy/bundle/bundle.js';
import { DEFAULT_LIMITS } from '../../src/policy/bundle/files.js';
import { PolicyEngine } from '../../src/policy/engine.js';
import { parseConfig } from '../../src/server/config.js';
import { loadDenyRows, parseFieldPath, reviewOf, rowNamespaces, type DenyRow } from '../helpers/deny-rows.js';
import { BUILTIN_BUNDLE, ROOT } from '../helpers/paths.js';

type Path = Array<string | number>;
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const rows = await loadDenyRows();
const engine = new PolicyEngine();
const snapshot = await engine.activate(await loadBundle('builtin', await readArchive('builtin', await readFile(BUILTIN_BUNDLE), DEFAULT_LIMITS)));
const istio = JSON.parse(await readFile(join(ROOT, 'policies', 'portcullis', 'istio', 'data.json'), 'utf8')) as {
  protoNames: Record<string, string>;
  kinds: Record<string, { nodes: Record<string, { t: string; f?: Record<string, string>; e?: Record<string, number> }> }>;
};
const namespaces = new Map(rowNamespaces(rows).map((n) => [n.name, { name: n.name, labels: n.labels, annotations: {} }]));
const cluster = { name: 'test', trustDomain: 'cluster.local' };
// The validating webhook asks the injector whether a Pod that says it was injected holds the real sidecar.
const injector = new Injector(parseConfig({}).admission.injection, cluster, { info: () => {}, error: () => {} });
await injector.start();
// What the proxy checks the SDS server against: inlined in the bootstrap, so any text renders.
injector.setTrustBundle('mesh trust bundle');
const deps: DecideDeps = {
  snapshot,
  injector,
  namespace: (name) => namespaces.get(name) ?? null,
  cluster,
  entrypoints: { validate: 'portcullis/admission/violations', mutate: 'portcullis/admission/patches', patchesActive: 'portcullis/admission/patches_active' },
  dropManagedFields: true,
  maxJsonDepth: 256,
  limits: parseConfig({}).admission.limits,
  masker: undefined,
};
const encoder = new TextEncoder();
const MALFORMED = '(malformed review)';

interface Verdict {
  allowed: boolean;
  error?: string;
  /** The rules that refuse it. */
  rules: string[];
  /** Every rule that reported it, whatever its enforcement. */
  reported: Set<string>;
  fields: Map<string, string[]>;
}

function judge(row: DenyRow, object: unknown): Verdict {
  const d = decide('validate', encoder.encode(JSON.stringify(reviewOf(row, object))), deps);
  if (d.kind === 'unknown-namespace') throw new Error(`namespace ${d.namespace} is not among the rows' namespaces`);
  // A review the webhook cannot read is answered with a 400, which the API server takes as a refusal.
  if (d.kind === 'malformed') return { allowed: false, rules: [MALFORMED], reported: new Set(), fields: new Map() };
  const fields = new Map<string, string[]>();
  for (const v of d.outcome.violations) {
    const field = (v.details as { field?: unknown } | undefined)?.field;
    if (typeof field === 'string') fields.set(v.rule, [...(fields.get(v.rule) ?? []), field]);
  }
  return {
    allowed: d.outcome.allowed,
    ...(d.outcome.decision === 'error' ? { error: d.outcome.error ?? 'error' } : {}),
    rules: [...new Set(d.outcome.violations.filter((v) => v.enforcement === 'deny').map((v) => v.rule))].sort(),
    reported: new Set(d.outcome.violations.map((v) => v.rule)),
    fields,
  };
}

const MISSING = Symbol('missing');
type Replacement = { label: string; value: Json | typeof MISSING };
const REPLACEMENTS: Replacement[] = [
  { label: 'string', value: 'x' },
  { label: 'number', value: 7 },
  { label: 'boolean', value: true },
  { label: 'null', value: null },
  { label: 'list', value: [] },
  { label: 'object', value: {} },
  { label: 'missing', value: MISSING },
];

const typeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'list' : typeof v === 'object' ? 'object' : typeof v);

function at(doc: unknown, path: Path): unknown {
  let node = doc;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node;
}

/** A copy of `doc` with the node at `path` replaced (or removed, or renamed to `rename`). */
function edited(doc: unknown, path: Path, value: Json | typeof MISSING, rename?: string): unknown {
  const copy = structuredClone(doc);
  const parent = at(copy, path.slice(0, -1)) as Record<string | number, unknown> | unknown[];
  const key = path[path.length - 1] as string | number;
  if (Array.isArray(parent)) {
    if (value === MISSING) parent.splice(key as number, 1);
    else parent[key as number] = value;
  } else if (value === MISSING) delete parent[key];
  else if (rename !== undefined) {
    // Keep the key order, so only the spelling changes.
    const entries = Object.entries(parent).map(([k, v]) => (k === key ? [rename, v] : [k, v]));
    for (const k of Object.keys(parent)) delete parent[k];
    Object.assign(parent, Object.fromEntries(entries));
  } else parent[key] = value;
  return copy;
}

/**
 * The paths the row's own violations name, as far as they exist in the object, and the row's extra paths.
 * Rules name Istio fields by their JSON names; the object may spell them with their proto names.
 */
function violationPaths(row: DenyRow, verdict: Verdict): Path[] {
  const paths: Path[] = [...row.paths];
  for (const field of verdict.fields.get(row.rule) ?? []) {
    const named = parseFieldPath(field);
    if (!named) continue;
    const path: Path = [];
    for (const key of named) {
      const node = at(row.object, path) as Record<string | number, unknown> | undefined;
      const proto = typeof key === 'string' ? istio.protoNames[key] : undefined;
      if (node !== null && typeof node === 'object' && key in node) path.push(key);
      else if (node !== null && typeof node === 'object' && proto !== undefined && proto in node) path.push(proto);
      else break;
    }
    if (path.length > 0) paths.push(path);
  }
  return paths;
}

interface Target {
  path: Path;
  onPath: boolean;
}

/**
 * Every node on the paths, and beside them every direct child of a node the paths run through (not of the
 * node a path ends at: what that one holds is the violation itself).
 */
function targets(row: DenyRow, paths: Path[]): Target[] {
  const onPath = new Map<string, Path>();
  const through = new Map<string, Path>([['[]', []]]);
  for (const path of paths) {
    for (let n = 1; n <= path.length; n++) onPath.set(JSON.stringify(path.slice(0, n)), path.slice(0, n));
    for (let n = 1; n < path.length; n++) through.set(JSON.stringify(path.slice(0, n)), path.slice(0, n));
  }
  const found = new Map<string, Target>();
  for (const path of onPath.values()) found.set(JSON.stringify(path), { path, onPath: true });
  for (const path of through.values()) {
    const node = at(row.object, path);
    if (node === null || typeof node !== 'object') continue;
    const keys = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
    for (const key of keys) {
      const child = [...path, key];
      const id = JSON.stringify(child);
      if (!found.has(id)) found.set(id, { path: child, onPath: false });
    }
  }
  return [...found.values()];
}

/** Whether the node at `path` is a list item or a map value (labels, annotations, an Istio map), where null is no "not set". */
function isItem(row: DenyRow, path: Path): boolean {
  const key = path[path.length - 1];
  if (typeof key === 'number') return true;
  const parent = path[path.length - 2];
  if (parent === 'labels' || parent === 'annotations') return true;
  return schemaPattern(row, path)?.endsWith('.{}') ?? false;
}

/** The pattern of data.portcullis.istio naming the node at `path` of an Istio kind's spec, as far as the schema reaches. */
function schemaPattern(row: DenyRow, path: Path): string | undefined {
  const kind = istio.kinds[`${row.group}/${row.kind}`];
  if (!kind || path[0] !== 'spec') return undefined;
  let pattern = 'spec';
  for (const key of path.slice(1)) {
    const entry = kind.nodes[pattern];
    if (entry?.t === 'array') pattern += '.[]';
    else if (entry?.t === 'map') pattern += '.{}';
    else if (entry?.t === 'object' && typeof key === 'string' && entry.f?.[key]) pattern += `.${entry.f[key]}`;
    else return undefined;
  }
  return pattern;
}

/** Istio's other spellings of the nodes on a path: proto names of the fields, numbers of the enum values. */
function respellings(row: DenyRow, path: Path): Array<{ label: string; object: unknown }> {
  const kind = istio.kinds[`${row.group}/${row.kind}`];
  if (!kind || path[0] !== 'spec') return [];
  const out: Array<{ label: string; object: unknown }> = [];
  let pattern = 'spec';
  for (let n = 1; n < path.length; n++) {
    const key = path[n] as string | number;
    const entry = kind.nodes[pattern];
    if (!entry) break;
    if (entry.t === 'array') pattern += '.[]';
    else if (entry.t === 'map') pattern += '.{}';
    else if (entry.t === 'object' && typeof key === 'string' && entry.f?.[key]) {
      const name = entry.f[key] as string;
      pattern += `.${name}`;
      const proto = istio.protoNames[name];
      const other = key === name ? proto : name;
      if (other) out.push({ label: `${key} as ${other}`, object: edited(row.object, path.slice(0, n + 1), null, other) });
    } else break;
  }
  const value = at(row.object, path);
  const enumeration = kind.nodes[pattern]?.e;
  if (typeof value === 'string' && enumeration && value in enumeration) {
    out.push({ label: `${value} as ${enumeration[value]}`, object: edited(row.object, path, enumeration[value] as number) });
  }
  return out;
}

const show = (path: Path) => path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('');

const totals = { rows: 0, mutants: 0, refused: 0, notHeld: 0, respelled: 0 };

t.test('every deny row is refused with its rule, and stays refused whatever the types', async (t) => {
  t.ok(rows.length > 0, 'there are deny rows');
  for (const row of rows) {
    await t.test(`${row.file}: ${row.name}`, async (t) => {
      const base = judge(row, row.object);
      t.notOk(base.error, `decided by the policy (${base.error ?? ''})`);
      t.equal(base.allowed, false, 'refused');
      t.ok(base.rules.includes(row.rule), `by ${row.rule} (got ${base.rules.join(', ') || 'nothing'})`);
      totals.rows++;
      if (row.operation === 'DELETE' || row.object === null) return;
      const paths = violationPaths(row, base);
      const checked = { mutants: 0, refused: 0, notHeld: 0, respelled: 0 };
      const refused = (verdict: Verdict, what: string) => {
        checked.refused++;
        if (verdict.error) t.fail(`${what}: an evaluation error, not a decision (${verdict.error})`);
        else if (verdict.allowed) t.fail(`${what}: allowed`);
      };
      for (const { path, onPath } of targets(row, paths)) {
        const original = at(row.object, path);
        const removed = judge(row, edited(row.object, path, MISSING));
        for (const { label, value } of REPLACEMENTS) {
          const what = `${show(path)} ${label}`;
          const verdict = value === MISSING ? removed : judge(row, edited(row.object, path, value));
          checked.mutants++;
          if (verdict.error) {
            t.fail(`${what}: an evaluation error, not a decision (${verdict.error})`);
            continue;
          }
          const judged = row.rule === 'object-schema' && paths.some((p) => JSON.stringify(p) === JSON.stringify(path));
          if (judged) checked.notHeld++;
          else if (!onPath) {
            refused(verdict, `${what} (beside ${show(paths[0] ?? [])})`);
            if (!verdict.reported.has(row.rule) && !verdict.rules.includes(MALFORMED)) t.fail(`${what} (beside ${show(paths[0] ?? [])}): ${row.rule} no longer reports its violation (got ${[...verdict.reported].join(', ')})`);
          }
          else if (value === null && !isItem(row, path)) {
            if (verdict.allowed !== removed.allowed) t.fail(`${what}: decided unlike its removal (allowed ${verdict.allowed}, removed ${removed.allowed})`);
          } else if (value === null || (value !== MISSING && original !== null && typeOf(value) !== typeOf(original))) refused(verdict, what);
          else checked.notHeld++;
        }
        if (onPath) {
          for (const { label, object } of respellings(row, path)) {
            const verdict = judge(row, object);
            checked.mutants++;
            checked.respelled++;
            refused(verdict, `${show(path)} ${label}`);
            t.same(verdict.rules, base.rules, `${show(path)} ${label}: refused by the same rules`);
          }
        }
      }
      t.ok(checked.mutants > 0, `${checked.mutants} replacements decided, ${checked.refused} held to a refusal`);
      totals.mutants += checked.mutants;
      totals.refused += checked.refused;
      totals.notHeld += checked.notHeld;
      totals.respelled += checked.respelled;
    });
  }
  t.comment(
    `fail-closed property: ${totals.rows} deny rows (${new Set(rows.map((r) => r.rule)).size} rules), ${totals.mutants} replacements decided, ` +
      `${totals.refused} held to a refusal (${totals.respelled} of them Istio respellings, held to the same rules), ` +
      `${totals.notHeld} removals, emptyings or same-type values on the path left to the rules`,
  );
});
