import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { AuditLog } from '../audit/log.js';
import { TlsProvider, type TlsSource } from '../certs/provider.js';
import type { ClusterFacts } from '../facts/facts.js';
import { FileFacts } from '../facts/file.js';
import { PolicyEngine } from '../policy/engine.js';
import { BundleManager } from '../policy/manager.js';
import { mergeData } from '../policy/data.js';
import { DataOverlay } from '../policy/overlay.js';
import type { PostureView } from '../posture/view.js';
import { resolveAdminToken } from './admin-token.js';
import { startAdmin } from './admin.js';
import { apiRoutes } from './api.js';
import { createSinks } from './audit-sinks.js';
import { bundleConfigs } from './bundles.js';
import type { Config } from './config.js';
import type { Context, Listener } from './context.js';
import type { Logger } from './logger.js';
import { Metrics } from './metrics.js';
import { watchMetrics } from './metrics-wiring.js';
import { VERSION } from './version.js';

/** A front door: started with the shared context, stopped through its Listener. */
export type FrontDoor = (ctx: Context) => Promise<Listener>;

export interface ServiceOptions {
  config: Config;
  log: Logger;
  /** Where audit lines go when the stdout sink is configured: the logger's own destination. */
  stdout: ConstructorParameters<typeof import('../audit/sinks/stdout.js').StdoutSink>[0];
  frontDoors: FrontDoor[];
  /** Facts other than the standalone file (Kubernetes informers). */
  facts?: ClusterFacts;
  /** Where tls.mode "secret" reads its certificates (Kubernetes mode). */
  tlsSource?: TlsSource;
  /** The `kubernetes` slot of GET /api/v1/mesh/status (Kubernetes mode). */
  kubernetes?: () => unknown;
  /** Where GET /api/v1/security/posture answers from (Kubernetes mode), or why it cannot. */
  posture?: () => PostureView | string;
}

export interface Service {
  ctx: Context;
  listeners: Listener[];
  admin: Listener;
  /** Graceful stop: readiness drops, listeners finish in-flight work, the audit log is flushed. */
  stop(options?: { drainMs?: number }): Promise<void>;
}

/** Starts everything in order: data first (bundles, certificates, facts), then the doors that depend on them. */
export async function startService(options: ServiceOptions): Promise<Service> {
  const { config, log } = options;
  const instance = `${hostname()}-${randomUUID().slice(0, 8)}`;
  const labels = { id: instance, app: 'portcullis', version: VERSION };
  const metrics = new Metrics();
  const engine = new PolicyEngine({
    maxMemoryPages: config.policy.maxMemoryPages,
    dataChecks: config.policy.dataChecks,
    host: config.policy.network ? { network: config.policy.network } : {},
    print: (message) => log.info({ component: 'policy' }, message),
  });
  const bundles = new BundleManager(engine, await bundleConfigs(config.policy), log.child({ component: 'bundles' }));
  // The sidecar provider is one switch: the injector reads it from the configuration, the rules from data.
  const data = mergeData(config.policy.data, { portcullis: { config: { mesh: { sidecar: config.admission.injection.provider } } } });
  const overlay = new DataOverlay(engine, data, config.policy.dataFile, log.child({ component: 'policy-data' }));
  const audit = new AuditLog({ sinks: createSinks(config.audit, options.stdout, log), mask: config.audit.mask, labels, recent: config.audit.recent, includeInput: config.audit.includeInput });
  const tls = new TlsProvider(config.tls, options.tlsSource);
  let draining = false;

  const fileFacts = !options.facts && config.facts.file ? new FileFacts(config.facts.file, log.child({ component: 'facts' })) : undefined;
  const facts = options.facts ?? fileFacts ?? emptyFacts;

  const ctx: Context = { config, log, engine, bundles, audit, metrics, facts, tls, draining: () => draining };
  const unwatch = watchMetrics(ctx);

  await overlay.start();
  bundles.start();
  await tls.start();
  await fileFacts?.start();
  try {
    await bundles.whenReady(config.policy.readyTimeoutSeconds * 1000);
  } catch (err) {
    // Not fatal: the doors start and answer with the failure mode until a bundle arrives; readiness stays false.
    log.error({ err: (err as Error).message }, 'starting without an active bundle');
  }

  const listeners: Listener[] = [];
  const stopAll = async () => {
    await Promise.allSettled(listeners.map((l) => l.close()));
  };
  try {
    for (const start of options.frontDoors) listeners.push(await start(ctx));
  } catch (err) {
    await stopAll();
    await bundles.stop();
    throw err;
  }
  const token = await resolveAdminToken({ tokenFile: config.admin.tokenFile, standaloneDir: config.mode === 'standalone' ? config.tls.dir : undefined });
  if (!token) log.warn({}, 'no admin token configured (admin.tokenFile or PORTCULLIS_ADMIN_TOKEN): /api/v1 refuses every request');
  const admin = await startAdmin(ctx, { token, listenersReady: () => listeners.length === options.frontDoors.length && listeners.every((l) => l.ready?.() ?? true), api: apiRoutes(() => listeners, { kubernetes: options.kubernetes, posture: options.posture }) });
  log.info({ version: VERSION, instance, mode: config.mode, listeners: Object.fromEntries([...listeners, admin].map((l) => [l.name, l.port])) }, 'portcullis started');

  return {
    ctx,
    listeners,
    admin,
    async stop({ drainMs = 0 } = {}) {
      draining = true;
      log.info({ drainMs }, 'shutting down: readiness is now failing');
      // Give endpoints controllers and load balancers time to stop sending traffic before closing.
      if (drainMs > 0) await new Promise((r) => setTimeout(r, drainMs));
      await stopAll();
      await admin.close();
      await bundles.stop();
      overlay.stop();
      tls.stop();
      fileFacts?.stop();
      unwatch();
      await audit.close();
      log.info({}, 'portcullis stopped');
    },
  };
}

const emptyFacts: ClusterFacts = {
  namespace: () => null,
  podByIp: () => undefined,
  podsByIdentity: () => [],
  synced: () => true,
  allNamespaces: () => [],
  namespaceGeneration: () => 0,
};
