import { watchFile, unwatchFile } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { PodIndex, type ClusterFacts, type NamespaceInfo, type PodInfo } from './facts.js';

interface Logger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * Cluster facts read from a YAML file, for standalone mode: the namespaces and Pods a test or a demo needs.
 *   namespaces: [{name, labels, annotations}]
 *   pods: [{name, namespace, serviceAccount, ip, labels, region}]
 * The file is re-read when it changes; a file that no longer parses keeps the previous facts.
 */
export class FileFacts implements ClusterFacts {
  private namespaces = new Map<string, NamespaceInfo>();
  private pods = new PodIndex();
  private loaded = false;
  private generation = 0;

  constructor(
    private readonly path: string,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.load();
    watchFile(this.path, { interval: 1000, persistent: false }, () => void this.load());
  }

  stop(): void {
    unwatchFile(this.path);
  }

  namespace(name: string): NamespaceInfo | null {
    return this.namespaces.get(name) ?? null;
  }

  allNamespaces(): NamespaceInfo[] {
    return [...this.namespaces.values()];
  }

  namespaceGeneration(): number {
    return this.generation;
  }

  podByIp(ip: string): PodInfo | undefined {
    return this.pods.podByIp(ip);
  }

  podsByIdentity(namespace: string, serviceAccount: string): PodInfo[] {
    return this.pods.podsByIdentity(namespace, serviceAccount);
  }

  synced(): boolean {
    return this.loaded;
  }

  private async load(): Promise<void> {
    try {
      const doc = (parseYaml(await readFile(this.path, 'utf8')) ?? {}) as { namespaces?: unknown; pods?: unknown };
      const namespaces = new Map<string, NamespaceInfo>();
      for (const n of list(doc.namespaces, 'namespaces')) {
        const name = str(n.name, 'namespaces[].name');
        namespaces.set(name, { name, labels: strings(n.labels), annotations: strings(n.annotations) });
      }
      const pods = new PodIndex();
      for (const p of list(doc.pods, 'pods')) {
        pods.upsert({
          name: str(p.name, 'pods[].name'),
          namespace: str(p.namespace, 'pods[].namespace'),
          serviceAccount: typeof p.serviceAccount === 'string' ? p.serviceAccount : 'default',
          ...(typeof p.ip === 'string' ? { ip: p.ip } : {}),
          ...(typeof p.region === 'string' ? { region: p.region } : {}),
          labels: strings(p.labels),
        });
      }
      this.namespaces = namespaces;
      this.generation++;
      this.pods = pods;
      this.loaded = true;
      this.log.info({ facts: this.path, namespaces: namespaces.size }, 'cluster facts loaded');
    } catch (err) {
      this.log.error({ facts: this.path, err: (err as Error).message }, 'cluster facts not reloaded; keeping the previous ones');
    }
  }
}

function list(v: unknown, what: string): Array<Record<string, unknown>> {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new Error(`${what} must be a list`);
  return v as Array<Record<string, unknown>>;
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string' || v === '') throw new Error(`${what} must be a non-empty string`);
  return v;
}

function strings(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out[k] = String(x);
  return out;
}
