import { setTimeout as sleep } from 'node:timers/promises';
import { CoordinationV1Api, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { withDeadline } from './deadline.js';
import { describe, isConflict, isNotFound } from './errors.js';
import { microTime, timeOf } from './micro-time.js';

const REPLICA_LABEL = 'portcullis.io/replica-of';
const SERVING_SERIAL = 'certs.portcullis.io/serving-serial';

export interface ReplicaOptions {
  kc: KubeConfig;
  namespace: string;
  /** The leader Lease's name: replica Leases are named after it and labelled with it. */
  group: string;
  identity: string;
  leaseDurationMs: number;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

export interface Replica {
  identity: string;
  serial: string | undefined;
}

/**
 * Each replica keeps a Lease of its own, renewed every third of leaseDuration, carrying the serial of
 * the serving certificate it serves. The leader reads them to know which replicas are alive and what
 * they serve: a CA rollover removes the old CA only once every live replica serves the new certificate.
 * A replica deletes its Lease when it stops; the leader removes Leases of replicas long gone.
 */
export class ReplicaRegistry {
  private readonly api: CoordinationV1Api;
  private serial: string | undefined;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly options: ReplicaOptions) {
    this.api = options.kc.makeApiClient(CoordinationV1Api);
  }

  get leaseName(): string {
    return replicaLeaseName(this.options.group, this.options.identity);
  }

  start(): void {
    this.loop ??= (async () => {
      while (!this.stopped) {
        await this.heartbeat();
        await Promise.race([sleep(this.options.leaseDurationMs / 3), new Promise<void>((r) => (this.wake = r))]);
      }
    })();
  }

  /** Records the serial this replica now serves; written at once. */
  async report(serial: string): Promise<void> {
    this.serial = serial;
    await this.heartbeat();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    await this.writing;
    await this.api.deleteNamespacedLease({ name: this.leaseName, namespace: this.options.namespace }).catch((err: unknown) => {
      if (!isNotFound(err)) this.options.log.warn({ lease: this.leaseName, err: describe(err) }, 'could not delete the replica Lease; the leader removes it once expired');
    });
  }

  /** Replicas whose Lease was renewed within leaseDuration. */
  async live(now = Date.now()): Promise<Replica[]> {
    const leases = await this.list();
    return leases.filter((l) => fresh(l, now, 1)).map((l) => ({ identity: l.spec?.holderIdentity ?? '', serial: l.metadata?.annotations?.[SERVING_SERIAL] }));
  }

  /** Deletes replica Leases not renewed for ten lease durations (their Pods were killed without a stop). */
  async prune(now = Date.now()): Promise<string[]> {
    const gone = (await this.list()).filter((l) => !fresh(l, now, 10)).map((l) => l.metadata?.name ?? '');
    for (const name of gone) {
      await this.api.deleteNamespacedLease({ name, namespace: this.options.namespace }).catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
    }
    return gone;
  }

  private async list(): Promise<V1Lease[]> {
    return (await this.api.listNamespacedLease({ namespace: this.options.namespace, labelSelector: `${REPLICA_LABEL}=${this.options.group}` })).items;
  }

  private heartbeat(): Promise<void> {
    // Serialized: a report and a periodic renewal must not race each other into a 409.
    this.writing = this.writing.then(() =>
      withDeadline(this.write(), this.options.leaseDurationMs, 'replica Lease renewal').catch((err: unknown) => this.options.log.warn({ lease: this.leaseName, err: describe(err) }, 'could not renew the replica Lease')),
    );
    return this.writing;
  }

  private async write(): Promise<void> {
    const { namespace, identity, group } = this.options;
    const name = this.leaseName;
    const spec = { holderIdentity: identity, leaseDurationSeconds: Math.max(1, Math.ceil(this.options.leaseDurationMs / 1000)), renewTime: microTime() };
    const annotations: Record<string, string> = this.serial ? { [SERVING_SERIAL]: this.serial } : {};
    for (let attempt = 0; attempt < 3; attempt++) {
      let lease: V1Lease;
      try {
        lease = await this.api.readNamespacedLease({ name, namespace });
      } catch (err) {
        if (!isNotFound(err)) throw err;
        const body: V1Lease = { metadata: { name, namespace, labels: { [REPLICA_LABEL]: group }, annotations }, spec: { ...spec, acquireTime: spec.renewTime } };
        try {
          await this.api.createNamespacedLease({ namespace, body });
          return;
        } catch (e) {
          if (isConflict(e)) continue;
          throw e;
        }
      }
      lease.metadata = { ...lease.metadata, annotations: { ...lease.metadata?.annotations, ...annotations } };
      lease.spec = { ...lease.spec, ...spec };
      try {
        await this.api.replaceNamespacedLease({ name, namespace, body: lease });
        return;
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
    }
  }
}

function replicaLeaseName(group: string, identity: string): string {
  return `${group}-replica-${identity}`.toLowerCase().replace(/[^a-z0-9.-]/g, '-').slice(0, 253);
}

function fresh(lease: V1Lease, now: number, durations: number): boolean {
  const renewed = timeOf(lease.spec?.renewTime as Date | string | undefined);
  const seconds = lease.spec?.leaseDurationSeconds ?? 15;
  return renewed !== undefined && renewed + durations * seconds * 1000 > now;
}
