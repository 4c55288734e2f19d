import type { BundleFiles } from '../bundle/files.js';

/** Where a bundle comes from. A source delivers the files of each new version; the manager decides whether to activate it. */
export interface BundleSource {
  /** For logs and status, e.g. "directory /policies" or "http https://bundles/x.tar.gz". */
  readonly description: string;
  start(handlers: SourceHandlers): void;
  stop(): Promise<void>;
}

export interface SourceHandlers {
  /** A new version is available. The promise settles once it was activated or refused. */
  update(files: BundleFiles, info: { etag?: string }): Promise<void>;
  /** The source could not be read (unreachable server, unreadable files). The active bundle stays. */
  error(err: Error): void;
}
