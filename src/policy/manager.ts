import { EventEmitter } from 'node:events';
import { loadBundle } from './bundle/bundle.js';
import { BundleError } from './bundle/errors.js';
import type { BundleFiles } from './bundle/files.js';
import type { VerificationConfig } from './bundle/verify.js';
import type { PolicyEngine } from './engine.js';
import type { BundleSource } from './sources/source.js';

/** What the status API and metrics report for one bundle. */
export interface BundleStatus {
  name: string;
  source: string;
  /** Revision of the active version, absent until one was activated. */
  revision?: string;
  etag?: string;
  activatedAt?: string;
  lastSuccessAt?: string;
  lastErrorAt?: string;
  /** Reason the latest version was refused or could not be fetched; cleared by the next success. */
  lastError?: string;
  activations: number;
  failures: number;
}

export interface BundleConfig {
  name: string;
  source: BundleSource;
  verification?: VerificationConfig | undefined;
}

export interface ManagerEvents {
  activated: [status: BundleStatus];
  failed: [status: BundleStatus, error: Error];
}

interface Logger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * Runs the bundle sources and activates what they deliver: the distribution side of the engine, as OPA's
 * bundle plugin. A version is loaded and verified completely before activation; on any failure the active
 * version stays and the failure is recorded in the status.
 */
export class BundleManager extends EventEmitter<ManagerEvents> {
  private readonly statuses = new Map<string, BundleStatus>();

  constructor(
    private readonly engine: PolicyEngine,
    private readonly bundles: BundleConfig[],
    private readonly log: Logger,
  ) {
    super();
    for (const b of bundles) this.statuses.set(b.name, { name: b.name, source: b.source.description, activations: 0, failures: 0 });
  }

  start(): void {
    for (const b of this.bundles) {
      b.source.start({
        update: (files, info) => this.update(b, files, info.etag),
        error: (err) => this.fail(b.name, err),
      });
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.bundles.map((b) => b.source.stop()));
  }

  status(): BundleStatus[] {
    return [...this.statuses.values()].map((s) => ({ ...s }));
  }

  /** True once every configured bundle has an active version. */
  ready(): boolean {
    return [...this.statuses.values()].every((s) => s.revision !== undefined);
  }

  /** Resolves when every bundle has been activated once (or rejects after timeoutMs with the last errors). */
  whenReady(timeoutMs: number): Promise<void> {
    if (this.ready()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onActivated = () => {
        if (!this.ready()) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        const errors = this.status().filter((s) => !s.revision).map((s) => `${s.name}: ${s.lastError ?? 'nothing received yet'}`);
        reject(new Error(`no active bundle after ${timeoutMs} ms (${errors.join('; ')})`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.off('activated', onActivated);
      };
      this.on('activated', onActivated);
    });
  }

  private async update(config: BundleConfig, files: BundleFiles, etag?: string): Promise<void> {
    const status = this.statuses.get(config.name) as BundleStatus;
    try {
      const bundle = await loadBundle(config.name, files, { verification: config.verification });
      await this.engine.activate(bundle);
      const now = new Date().toISOString();
      Object.assign(status, { revision: bundle.manifest.revision, activatedAt: now, lastSuccessAt: now, activations: status.activations + 1 });
      if (etag) status.etag = etag;
      delete status.lastError;
      this.log.info({ bundle: config.name, revision: bundle.manifest.revision, source: config.source.description }, 'bundle activated');
      this.emit('activated', { ...status });
    } catch (err) {
      this.fail(config.name, err as Error);
    }
  }

  private fail(name: string, err: Error): void {
    const status = this.statuses.get(name) as BundleStatus;
    status.failures++;
    status.lastErrorAt = new Date().toISOString();
    status.lastError = err instanceof BundleError ? err.reason : err.message;
    this.log.error({ bundle: name, err: status.lastError, activeRevision: status.revision ?? null }, 'bundle refused; the active version keeps serving');
    this.emit('failed', { ...status }, err);
  }
}
