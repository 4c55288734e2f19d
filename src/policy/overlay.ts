import { unwatchFile, watchFile } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { isObject, mergeData, type DataObject } from './data.js';
import type { PolicyEngine } from './engine.js';

interface Logger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * Operator data merged over the bundles' data: the `policy.data` of the configuration, then a file (a
 * mounted ConfigMap) re-read whenever it changes. A file that does not parse leaves the previous overlay.
 */
export class DataOverlay {
  private fileData: DataObject = {};

  constructor(
    private readonly engine: PolicyEngine,
    private readonly configData: DataObject,
    private readonly file: string | undefined,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    if (this.file) {
      await this.reload(true);
      watchFile(this.file, { interval: 2000, persistent: false }, () => void this.reload(false));
    } else {
      await this.engine.setOverlay(this.configData);
    }
  }

  stop(): void {
    if (this.file) unwatchFile(this.file);
  }

  private async reload(first: boolean): Promise<void> {
    const file = this.file as string;
    try {
      const doc: unknown = parseYaml(await readFile(file, 'utf8')) ?? {};
      if (!isObject(doc)) throw new Error('the document must be an object');
      this.fileData = doc;
      await this.engine.setOverlay(mergeData(this.configData, this.fileData));
      this.log.info({ dataFile: file }, 'policy data overlay loaded');
    } catch (err) {
      if (first) throw new Error(`policy.dataFile ${file}: ${(err as Error).message}`);
      this.log.error({ dataFile: file, err: (err as Error).message }, 'policy data overlay not reloaded; keeping the previous one');
    }
  }
}
