import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { NamespaceInfo } from '../../facts/facts.js';
import { InputError, type Manifest } from './manifests.js';

/**
 * The namespace facts eval decides with, strongest last: a file in the facts-file format
 * (`namespaces: [{name, labels, annotations}]`, what `--namespaces` reads), then the Namespace objects of the
 * input (applying them sets those labels), then `--label` / `--annotation` flags. A namespace nobody
 * describes exists with no labels: the API server only admits objects into namespaces that exist.
 */
export class EvalNamespaces {
  private readonly known = new Map<string, NamespaceInfo>();

  async loadFile(path: string): Promise<void> {
    let doc: unknown;
    try {
      doc = parseYaml(await readFile(path, 'utf8'));
    } catch (err) {
      throw new InputError(`${path}: the namespaces file cannot be read: ${(err as Error).message.split('\n')[0]}`);
    }
    const list = (doc as { namespaces?: unknown } | null)?.namespaces;
    if (!Array.isArray(list)) throw new InputError(`${path}: the namespaces file needs namespaces: [{name, labels, annotations}]`);
    list.forEach((n: unknown, i) => {
      const entry = n as { name?: unknown; labels?: unknown; annotations?: unknown } | null;
      if (typeof entry?.name !== 'string' || entry.name === '') throw new InputError(`${path}: namespaces[${i}].name must be a non-empty string`);
      this.known.set(entry.name, { name: entry.name, labels: strings(entry.labels, `${path}: namespaces[${i}].labels`), annotations: strings(entry.annotations, `${path}: namespaces[${i}].annotations`) });
    });
  }

  /** Namespace objects of the input. */
  addObjects(manifests: Manifest[]): void {
    for (const m of manifests) {
      if (m.object.apiVersion !== 'v1' || m.object.kind !== 'Namespace') continue;
      const meta = (m.object.metadata ?? {}) as { name?: unknown; labels?: unknown; annotations?: unknown };
      if (typeof meta.name !== 'string' || meta.name === '') continue;
      const at = `${m.file === '-' ? 'standard input' : m.file}, document ${m.document}`;
      this.known.set(meta.name, { name: meta.name, labels: strings(meta.labels, `${at}: metadata.labels`), annotations: strings(meta.annotations, `${at}: metadata.annotations`) });
    }
  }

  /** `[NAMESPACE:]KEY=VALUE` from a flag; without a namespace, the default one. */
  set(kind: 'labels' | 'annotations', flag: string, defaultNamespace: string): void {
    const colon = flag.indexOf(':');
    const eq = flag.indexOf('=');
    if (eq < 0) throw new InputError(`--${kind === 'labels' ? 'label' : 'annotation'} ${flag}: expected [NAMESPACE:]KEY=VALUE`);
    const namespace = colon >= 0 && colon < eq ? flag.slice(0, colon) : defaultNamespace;
    const key = flag.slice(colon >= 0 && colon < eq ? colon + 1 : 0, eq);
    if (namespace === '' || key === '') throw new InputError(`--${kind === 'labels' ? 'label' : 'annotation'} ${flag}: expected [NAMESPACE:]KEY=VALUE`);
    const info = this.get(namespace);
    info[kind][key] = flag.slice(eq + 1);
    this.known.set(namespace, info);
  }

  get(name: string): NamespaceInfo {
    const info = this.known.get(name);
    return info ? { name, labels: { ...info.labels }, annotations: { ...info.annotations } } : { name, labels: {}, annotations: {} };
  }
}

function strings(v: unknown, what: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new InputError(`${what} must be a mapping of strings`);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== 'string') throw new InputError(`${what}.${k} must be a string`);
    out[k] = x;
  }
  return out;
}
