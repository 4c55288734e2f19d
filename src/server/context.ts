import type { FastifyInstance } from 'fastify';
import type { AuditLog } from '../audit/log.js';
import type { TlsProvider } from '../certs/provider.js';
import type { ClusterFacts } from '../facts/facts.js';
import type { PolicyEngine } from '../policy/engine.js';
import type { BundleManager } from '../policy/manager.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

/** What every front door is given: the shared pieces, never another front door. */
export interface Context {
  config: Config;
  log: Logger;
  engine: PolicyEngine;
  bundles: BundleManager;
  audit: AuditLog;
  metrics: Metrics;
  facts: ClusterFacts;
  tls: TlsProvider;
  /** Set when shutdown begins: readiness fails first, then listeners close. */
  draining(): boolean;
}

/** A started front door. close() stops accepting and resolves once in-flight requests are answered. */
export interface Listener {
  name: string;
  port: number;
  close(): Promise<void>;
  /** Whether it can serve everything it is there for (readiness); ready when absent. */
  ready?(): boolean;
  /** Routes this door adds to the admin API under /api/v1 (behind its bearer token). */
  api?: (app: FastifyInstance) => void | Promise<void>;
}
