// Deny rows: objects some rule must refuse, one per variant, kept as data so that every test that needs
// refused objects reads the same corpus and a new rule's rows are picked up without code. A row file is a
// JSON array of rows (test/fixtures/deny/<rule>.json for each rule's own cases, test/fixtures/attack/<class>/
// for the attack corpus):
//   { "name": "what the variant is",
//     "rule": "the rule that must refuse it",
//     "object": {...},                      the object as the author wrote it
//     "operation": "CREATE",                optional: CREATE (default), UPDATE, DELETE
//     "oldObject": {...},                   optional, for UPDATE and DELETE
//     "kind": "apps/Deployment",            optional: group/kind, by default from the object's apiVersion/kind
//     "namespace": "team",                  optional (default "team"), with
//     "namespaceLabels": {...},             its labels (default none; the same name must carry the same labels)
//     "username": "alice@example.com",      optional: who sends it
//     "paths": [["spec", "mtls"]] }         optional: more fields the fail-closed property test replaces, beside
//                                           those the rule names in details.field
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { FIXTURES } from './paths.js';

export interface DenyRow {
  file: string;
  name: string;
  rule: string;
  object: Record<string, unknown> | null;
  operation: 'CREATE' | 'UPDATE' | 'DELETE';
  oldObject?: Record<string, unknown>;
  group: string;
  version: string;
  kind: string;
  namespace: string;
  namespaceLabels: Record<string, string>;
  username: string;
  paths: Array<Array<string | number>>;
}

export const DENY_DIRS = [join(FIXTURES, 'deny'), join(FIXTURES, 'attack')];

async function* jsonFiles(dir: string): AsyncGenerator<string> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, e.name);
    if (e.isDirectory()) yield* jsonFiles(path);
    else if (e.name.endsWith('.json')) yield path;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The rows of one file; a file that holds something else is reported by name, never skipped silently. */
export function parseRows(file: string, doc: unknown): DenyRow[] {
  if (!Array.isArray(doc)) throw new Error(`${file}: a deny row file is a JSON array of rows`);
  return doc.map((raw, i) => {
    const where = `${file}[${i}]`;
    if (!isObject(raw) || typeof raw.name !== 'string' || typeof raw.rule !== 'string') throw new Error(`${where}: a row needs a name and a rule`);
    const operation = (raw.operation ?? 'CREATE') as DenyRow['operation'];
    if (!['CREATE', 'UPDATE', 'DELETE'].includes(operation)) throw new Error(`${where}: operation ${String(raw.operation)}`);
    const object = raw.object === undefined ? null : raw.object;
    if (operation !== 'DELETE' && !isObject(object)) throw new Error(`${where}: a ${operation} row needs an object`);
    const oldObject = isObject(raw.oldObject) ? raw.oldObject : undefined;
    const typed = (isObject(object) ? object : oldObject) as { apiVersion?: string; kind?: string } | undefined;
    let group: string;
    let version: string;
    let kind: string;
    if (typeof raw.kind === 'string') {
      [group, kind] = raw.kind.includes('/') ? (raw.kind.split('/') as [string, string]) : ['', raw.kind];
      version = typed?.apiVersion?.split('/').pop() ?? 'v1';
    } else {
      const apiVersion = typed?.apiVersion ?? '';
      [group, version] = apiVersion.includes('/') ? (apiVersion.split('/') as [string, string]) : ['', apiVersion];
      kind = typed?.kind ?? '';
    }
    if (!kind) throw new Error(`${where}: no kind (set "kind", or the object's apiVersion and kind)`);
    return {
      file,
      name: raw.name,
      rule: raw.rule,
      object: object as DenyRow['object'],
      operation,
      ...(oldObject ? { oldObject } : {}),
      group,
      version,
      kind,
      namespace: typeof raw.namespace === 'string' ? raw.namespace : 'team',
      namespaceLabels: isObject(raw.namespaceLabels) ? (raw.namespaceLabels as Record<string, string>) : {},
      username: typeof raw.username === 'string' ? raw.username : 'alice@example.com',
      paths: Array.isArray(raw.paths) ? (raw.paths as DenyRow['paths']) : [],
    };
  });
}

/** Every row under the deny and attack fixture folders, or under `dirs`. */
export async function loadDenyRows(dirs = DENY_DIRS): Promise<DenyRow[]> {
  const rows: DenyRow[] = [];
  for (const dir of dirs) {
    for await (const file of jsonFiles(dir)) {
      rows.push(...parseRows(relative(FIXTURES, file), JSON.parse(await readFile(file, 'utf8'))));
    }
  }
  return rows;
}

/** The namespaces the rows live in, with their labels; one name with two sets of labels is a mistake in the rows. */
export function rowNamespaces(rows: DenyRow[]): Array<{ name: string; labels: Record<string, string> }> {
  const seen = new Map<string, Record<string, string>>();
  for (const row of rows) {
    const known = seen.get(row.namespace);
    if (known && JSON.stringify(known) !== JSON.stringify(row.namespaceLabels)) {
      throw new Error(`${row.file} "${row.name}": namespace ${row.namespace} has other labels in another row`);
    }
    seen.set(row.namespace, row.namespaceLabels);
  }
  return [...seen].map(([name, labels]) => ({ name, labels }));
}

const plural = (kind: string) => {
  const lower = kind.toLowerCase();
  return lower.endsWith('y') ? `${lower.slice(0, -1)}ies` : `${lower}s`;
};

/**
 * The AdmissionReview the API server would send for the row, with `object` in place of the row's own. The
 * envelope (name, namespace, kind) is the row's whatever `object` holds, as the API server fills it from the URL.
 */
export function reviewOf(row: DenyRow, object: unknown = row.object, uid = `row-${Math.random().toString(16).slice(2)}`) {
  const named = (row.object ?? row.oldObject) as { metadata?: { name?: unknown } } | undefined;
  const name = typeof named?.metadata?.name === 'string' ? named.metadata.name : '';
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group: row.group, version: row.version, kind: row.kind },
      resource: { group: row.group, version: row.version, resource: plural(row.kind) },
      namespace: row.namespace,
      ...(name ? { name } : {}),
      operation: row.operation,
      userInfo: { username: row.username, groups: ['system:authenticated'] },
      ...(row.operation === 'DELETE' ? { object: null } : { object }),
      ...(row.oldObject ? { oldObject: row.oldObject } : {}),
    },
  };
}

/** The path of a details.field such as spec.portLevelMtls["9102"].mode or spec.containers[0].image. */
export function parseFieldPath(field: string): Array<string | number> | undefined {
  const path: Array<string | number> = [];
  const re = /\.?([A-Za-z_$][\w$-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/gy;
  let m: RegExpExecArray | null;
  let at = 0;
  while (at < field.length) {
    re.lastIndex = at;
    m = re.exec(field);
    if (!m) return undefined;
    if (m[1] !== undefined) path.push(m[1]);
    else if (m[2] !== undefined) path.push(Number(m[2]));
    else path.push(JSON.parse(m[3] as string) as string);
    at = re.lastIndex;
  }
  return path;
}
