import type { KubeConfig } from '@kubernetes/client-node';
import { CertRotator } from '../certs/rotator.js';
import { certInfo, splitPems } from '../certs/pem.js';
import { initialState, rotationSettings } from '../certs/rotation.js';
import { SecretTlsSource } from '../certs/secret-source.js';
import { CertSecret } from '../certs/secret-store.js';
import { kubeConfig, ownIdentity, ownNamespace, serviceDnsNames } from '../kube/client.js';
import { DefaultDenyController } from '../kube/default-deny.js';
import { describe } from '../kube/errors.js';
import { InformerFacts } from '../kube/facts.js';
import { LeaderElector } from '../kube/leader.js';
import { ReplicaRegistry } from '../kube/replicas.js';
import { CaBundlePublisher } from '../kube/webhooks.js';
import { RawClient } from '../kube/raw.js';
import { Injector } from '../admission/injection/injector.js';
import type { TlsMaterial } from '../certs/provider.js';
import { ClusterAudit } from '../posture/cluster-audit.js';
import { reportView, storeView, type PostureView } from '../posture/view.js';
import type { Config } from './config.js';
import type { Context } from './context.js';
import type { Logger } from './logger.js';
import { auditJudge } from './posture.js';
import type { ServiceOptions } from './service.js';

export interface KubernetesMode {
  /** What startService takes from Kubernetes mode: informer facts, the Secret as TLS source, the status slot, the posture API. */
  serviceOptions: Pick<ServiceOptions, 'facts' | 'tlsSource' | 'kubernetes' | 'posture'>;
  /** Feeds the CA expiry metric once the service (and its metrics) exist. */
  attach(ctx: Context): void;
  /** After the service has stopped (readiness dropped, in-flight answered): leave the Lease to the next leader. */
  stop(): Promise<void>;
}

/**
 * What runs where. Every replica: informers (facts), its replica Lease (alive, and the serial it serves),
 * the certificate Secret watch (tls.mode secret), and a leader election candidate. The leader only:
 * certificate rotation, the webhook caBundle, the default-deny AuthorizationPolicies, and (once the service
 * is attached: it needs the policy engine and the audit log) the posture audit. Leader-only work is built
 * anew for each term, so a replica that loses and regains leadership starts from a clean slate.
 */
export async function startKubernetesMode(config: Config, log: Logger): Promise<KubernetesMode> {
  const k = config.kubernetes;
  const kc = kubeConfig(k);
  const namespace = ownNamespace(k);
  const identity = ownIdentity(k);
  const klog = log.child({ component: 'kubernetes' });
  const watch = { resyncMs: k.informers.resyncSeconds * 1000, watchTimeoutSeconds: k.informers.watchTimeoutSeconds, retryMs: k.informers.retrySeconds * 1000, pageSize: k.informers.pageSize };
  const election = k.leaderElection;
  const leaseDurationMs = election.leaseDurationSeconds * 1000;

  const facts = new InformerFacts({ kc, ...watch, nodes: k.informers.nodes, log: klog });
  const replicas = new ReplicaRegistry({ kc, namespace, group: election.leaseName, identity, leaseDurationMs, log: klog });
  const elector = new LeaderElector({
    kc,
    namespace,
    name: election.leaseName,
    identity,
    leaseDurationMs,
    renewDeadlineMs: election.renewDeadlineSeconds * 1000,
    retryPeriodMs: election.retryPeriodSeconds * 1000,
    log: klog,
  });

  let leaderWork: (() => Promise<void>) | undefined;
  let ctx: Context | undefined;
  let audit: ClusterAudit | undefined;
  let stopAuditInjector: (() => void) | undefined;
  // Replicas that do not lead answer the posture API from the reports the leader wrote.
  const reportsRaw = config.posture.enabled && config.posture.reports.enabled ? new RawClient(kc) : undefined;
  const startAudit = () => {
    if (!ctx || !config.posture.enabled || audit || !elector.isLeader()) return;
    const c = ctx;
    // The audit's own injector, to check injected Pods' sidecars as the validating webhook does.
    const injector = new Injector(config.admission.injection, config.cluster, klog);
    const trust = (m: TlsMaterial) => injector.setTrustBundle(m.ca ?? '');
    trust(c.tls.current());
    c.tls.on('change', trust);
    stopAuditInjector = () => {
      c.tls.off('change', trust);
      injector.stop();
    };
    const started = new ClusterAudit({
      config: config.posture,
      kc,
      ownNamespace: namespace,
      identity,
      facts,
      namespaces: facts.namespaces,
      engine: c.engine,
      judge: auditJudge(config, injector),
      entrypoint: config.admission.violationsEntrypoint,
      audit: c.audit,
      metrics: { violations: c.metrics.postureViolations, objects: c.metrics.postureObjects, lastSweep: c.metrics.postureLastSweep, sweepDuration: c.metrics.postureSweepDuration },
      informers: { watchTimeoutSeconds: k.informers.watchTimeoutSeconds, retryMs: k.informers.retrySeconds * 1000 },
      log: klog,
    });
    audit = started;
    injector
      .start()
      .then(() => started.start())
      .catch((err: unknown) => klog.error({ err: describe(err) }, 'posture: the audit did not start'));
  };
  const postureView = (): PostureView | string => {
    if (!config.posture.enabled) return 'the posture audit is disabled (posture.enabled: false)';
    if (audit) {
      const a = audit;
      return storeView(a.store, { leader: identity, bundles: () => ({ ...ctx?.engine.current().revisions }), lastSweep: () => a.lastSweep(), sweeping: () => a.sweeping() });
    }
    if (reportsRaw) return reportView(reportsRaw, config.posture.reports.name);
    return `this replica does not lead (the leader is ${elector.leader() ?? 'not known yet'}) and posture.reports is disabled: ask the leader`;
  };
  let rotator: CertRotator | undefined;
  let publisher: CaBundlePublisher | undefined;
  const secretConfig = config.tls.secret;
  // tls.mode secret: the certificates are ours to keep; files (cert-manager) and dev need none of this.
  const certs = config.tls.mode === 'secret' ? selfManaged(config, kc, namespace, klog, watch) : undefined;
  const source = certs?.source;
  if (source) source.onServing = (serial) => void replicas.report(serial);

  const startLeaderWork = () => {
    const deny = k.defaultDeny.enabled ? new DefaultDenyController({ kc, namespaces: facts.namespaces, name: k.defaultDeny.name, injectionLabel: k.defaultDeny.injectionLabel, log: klog }) : undefined;
    if (certs) {
      publisher = new CaBundlePublisher({ kc, mutating: k.webhooks.mutating, validating: k.webhooks.validating, ...watch, log: klog });
      rotator = new CertRotator({ ...certs, publisher, replicas, pollMs: election.retryPeriodSeconds * 1000, log: klog });
      publisher.start();
      rotator.start();
    }
    deny?.start();
    startAudit();
    const [p, r] = [publisher, rotator];
    leaderWork = async () => {
      deny?.stop();
      const a = audit;
      audit = undefined;
      await a?.stop();
      stopAuditInjector?.();
      stopAuditInjector = undefined;
      await r?.stop();
      await p?.stop();
    };
  };
  let stoppingLeaderWork: Promise<void> = Promise.resolve();
  elector.on('started', startLeaderWork);
  elector.on('stopped', () => {
    const stop = leaderWork;
    leaderWork = undefined;
    rotator = undefined;
    publisher = undefined;
    stoppingLeaderWork = stoppingLeaderWork.then(() => stop?.());
  });

  facts.start();
  replicas.start();
  elector.start();
  try {
    await facts.namespaces.whenSynced(k.startTimeoutSeconds * 1000);
    await facts.pods.whenSynced(k.startTimeoutSeconds * 1000);
  } catch (err) {
    klog.warn({ err: describe(err) }, 'starting before the informers synced: decisions use what is known so far');
  }

  const stop = async () => {
    await elector.stop();
    await stoppingLeaderWork;
    reportsRaw?.close();
    await replicas.stop();
    await source?.stop();
    await facts.stop();
  };

  return {
    serviceOptions: {
      facts,
      ...(source ? { tlsSource: source } : {}),
      kubernetes: () => ({
        mode: 'kubernetes',
        namespace,
        identity,
        factsSynced: facts.synced(),
        informers: facts.status(),
        leader: { identity: elector.leader() ?? null, self: elector.isLeader(), lease: election.leaseName },
        certificates: {
          mode: config.tls.mode,
          ...(source ? { secret: secretConfig.name, serving: source.serving() ?? null } : {}),
          ...(rotator ? { rotation: rotator.status() } : {}),
        },
        ...(publisher ? { webhooks: publisher.status() } : {}),
        ...(audit ? { posture: audit.status() } : {}),
      }),
      posture: postureView,
    },
    attach(attached) {
      ctx = attached;
      startAudit();
      const setCa = (ca: string | undefined) => {
        const ends = splitPems(ca ?? '').map((pem) => certInfo(pem).notAfter.getTime());
        if (ends.length > 0) attached.metrics.certificateExpiry.set({ name: 'ca' }, Math.min(...ends) / 1000);
      };
      setCa(attached.tls.current().ca);
      attached.tls.on('change', (m) => setCa(m.ca));
    },
    stop,
  };
}

/** The Secret-backed certificates of tls.mode secret: what every replica follows and the leader rotates. */
function selfManaged(config: Config, kc: KubeConfig, namespace: string, log: Logger, watch: { resyncMs: number; watchTimeoutSeconds: number; retryMs: number }) {
  const k = config.kubernetes;
  const secret = config.tls.secret;
  const settings = rotationSettings(secret, config.sds.enabled ? config.sds.certificateTtl : undefined);
  const names = [...serviceDnsNames(k.service, namespace, k.clusterDomain), ...secret.extraNames];
  const store = new CertSecret(kc, namespace, secret.name);
  const source = new SecretTlsSource({ kc, store, fresh: () => initialState(settings, names), startTimeoutMs: k.startTimeoutSeconds * 1000, watch, log });
  return { settings, names, store, source };
}
