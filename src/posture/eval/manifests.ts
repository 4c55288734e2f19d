import { readFileSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { isMap, isSeq, LineCounter, parseAllDocuments } from 'yaml';

/** One object found in the input, and where: what every output points back to. */
export interface Manifest {
  /** As given (a path relative to where eval runs when it was), "-" for standard input. */
  file: string;
  /** 1-based position of the YAML document in its file. */
  document: number;
  /** 1-based line where the object starts. */
  line: number;
  /** Position within a List's items, when the object came from one. */
  item?: number;
  object: Record<string, unknown>;
}

/** Input that is not Kubernetes objects: eval stops with exit code 2 and this message, naming the file and document. */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

const EXTENSIONS = ['.yaml', '.yml', '.json'];

/**
 * Every object in the given files, directories (their .yaml, .yml and .json files, recursively, in name
 * order, hidden entries skipped) and "-" (standard input): multi-document YAML and JSON, `List` kinds
 * (kubectl's v1/List and every *List) expanded into their items, empty documents (helm template's) skipped.
 */
export async function readManifests(paths: string[], stdin: () => Promise<string>): Promise<Manifest[]> {
  const out: Manifest[] = [];
  for (const path of paths) {
    if (path === '-') {
      out.push(...parse('-', await stdin()));
      continue;
    }
    // Read synchronously, in order: a rendered chart is often hundreds of small files, and a command that
    // does nothing else meanwhile paid more for the thread pool's round trips (open, stat, read, close:
    // a quarter of a second for 1,000 files) than for the reads.
    for (const file of await files(path)) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw new InputError(`${file}: cannot be read: ${(err as Error).message}`);
      }
      out.push(...parse(file, text));
    }
  }
  return out;
}

async function files(path: string): Promise<string[]> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    throw new InputError(`${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
  }
  if (!info.isDirectory()) return [path];
  const found: string[] = [];
  const walk = async (dir: string) => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const full = join(dir, e.name);
      const kind = e.isSymbolicLink() ? await stat(full).catch(() => undefined) : e;
      if (kind?.isDirectory()) await walk(full);
      else if (kind?.isFile() && EXTENSIONS.some((x) => e.name.endsWith(x))) found.push(full);
    }
  };
  await walk(path);
  return found.map((f) => (path.startsWith('/') ? f : relative('.', f) || f));
}

/** The objects of one file's text. */
export function parse(file: string, text: string): Manifest[] {
  const where = file === '-' ? 'standard input' : file;
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines });
  const out: Manifest[] = [];
  const list = Array.isArray(docs) ? docs : [];
  list.forEach((doc, i) => {
    const document = i + 1;
    const line = doc.contents ? lines.linePos(doc.contents.range[0]).line : 1;
    const at = `${where}, document ${document} (line ${line})`;
    if (doc.errors.length > 0) {
      const e = doc.errors[0] as { message: string; linePos?: Array<{ line: number }> };
      throw new InputError(`${where}, document ${document}: not valid YAML or JSON${e.linePos?.[0] ? ` at line ${e.linePos[0].line}` : ''}: ${e.message.split('\n')[0]}`);
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) return;
    const object = kubeObject(value, at);
    if (!isList(object)) {
      out.push({ file, document, line, object });
      return;
    }
    const items = object.items;
    if (!Array.isArray(items)) throw new InputError(`${at}: a ${String(object.kind)} needs items, a list of objects`);
    const nodes = isMap(doc.contents) ? doc.contents.get('items', true) : undefined;
    items.forEach((item, j) => {
      const node = isSeq(nodes) ? nodes.items[j] : undefined;
      const itemLine = node && typeof node === 'object' && 'range' in node && Array.isArray(node.range) ? lines.linePos(node.range[0] as number).line : line;
      out.push({ file, document, line: itemLine, item: j, object: kubeObject(item, `${at}, item ${j}`) });
    });
  });
  return out;
}

function kubeObject(value: unknown, at: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InputError(`${at}: not a Kubernetes object (a mapping with apiVersion and kind)`);
  const o = value as Record<string, unknown>;
  if (typeof o.apiVersion !== 'string' || o.apiVersion === '' || typeof o.kind !== 'string' || o.kind === '') {
    throw new InputError(`${at}: not a Kubernetes object: apiVersion and kind must be non-empty strings (render Helm charts and kustomizations first: helm template, kustomize build)`);
  }
  if (o.metadata !== undefined && (o.metadata === null || typeof o.metadata !== 'object' || Array.isArray(o.metadata))) throw new InputError(`${at}: metadata must be a mapping`);
  return o;
}

function isList(o: Record<string, unknown>): boolean {
  return typeof o.kind === 'string' && o.kind.endsWith('List') && 'items' in o;
}
