import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoordinationV1Api, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { withDeadline } from './deadline.js';
import { describe, isConflict, isNotFound } from './errors.js';
import { microTime, timeOf } from './micro-time.js';

export interface LeaderElectionOptions {
  kc: KubeConfig;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

/**
 * Leader election on a coordination.k8s.io/v1 Lease, after client-go's leaderelection: candidates try to
 * acquire every retryPeriod; a holder is presumed alive while its record keeps changing within
 * leaseDuration, timed on our own clock (no trust in the holder's clock); the leader renews every
 * retryPeriod and steps down when it could not renew for renewDeadline; every write carries the
 * resourceVersion it read, so two candidates never both win. On stop the leader releases the Lease
 * (empty holder) so the next one takes over at once instead of after leaseDuration.
 */
export class LeaderElector extends EventEmitter<{ started: []; stopped: []; leader: [string | undefined] }> {
  private readonly api: CoordinationV1Api;
  private leading = false;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private observed: { record: string; at: number; holder: string | undefined } = { record: '', at: 0, holder: undefined };
  private lastRenew = 0;
  private lastAnnounced: string | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly options: LeaderElectionOptions) {
    super();
    this.api = options.kc.makeApiClient(CoordinationV1Api);
  }

  start(): void {
    this.loop ??= this.run();
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** The holder last seen on the Lease. */
  leader(): string | undefined {
    return this.observed.holder;
  }

  /** Stops campaigning; a leader steps down and releases the Lease. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    if (this.leading) {
      this.setLeading(false);
      // Bounded like a round: a replica shutting down must not wait on an API server that does not answer.
      await withDeadline(this.release(), this.options.renewDeadlineMs, 'releasing the leader Lease').catch((err: unknown) => this.options.log.warn({ lease: this.options.name, err: describe(err) }, 'could not release the leader Lease; it expires by itself'));
    }
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let ok = false;
      try {
        ok = await withDeadline(this.tryAcquireOrRenew(), this.options.renewDeadlineMs, 'leader election round');
      } catch (err) {
        this.options.log.warn({ lease: this.options.name, err: describe(err) }, 'leader election: could not read or write the Lease');
      }
      if (ok) {
        this.lastRenew = Date.now();
        if (!this.leading) this.setLeading(true);
      } else if (this.leading && Date.now() - this.lastRenew >= this.options.renewDeadlineMs) {
        this.options.log.warn({ lease: this.options.name }, 'leader election: renew deadline passed; stepping down');
        this.setLeading(false);
      }
      // Candidates spread out a little so they do not all write at the same instant.
      const jitter = this.leading ? 0 : Math.random() * this.options.retryPeriodMs * 0.2;
      await Promise.race([sleep(this.options.retryPeriodMs + jitter), new Promise<void>((r) => (this.wake = r))]);
    }
  }

  private setLeading(leading: boolean): void {
    this.leading = leading;
    this.options.log.info({ lease: this.options.name, identity: this.options.identity, leading }, leading ? 'became leader' : 'no longer leader');
    this.emit(leading ? 'started' : 'stopped');
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.options;
    const now = new Date();
    let lease: V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ name, namespace });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      const body: V1Lease = {
        metadata: { name, namespace },
        spec: { holderIdentity: identity, leaseDurationSeconds: this.durationSeconds(), acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 },
      };
      try {
        await this.api.createNamespacedLease({ namespace, body });
      } catch (created) {
        if (!isConflict(created)) throw created;
        // Another candidate created it first: this round is lost; learn who leads now rather than next round.
        this.observe(await this.api.readNamespacedLease({ name, namespace }), now.getTime());
        return false;
      }
      this.observe(body, now.getTime());
      return true;
    }
    const spec = lease.spec ?? {};
    this.observe(lease, now.getTime());
    const holder = spec.holderIdentity || undefined;
    const durationMs = (spec.leaseDurationSeconds ?? this.durationSeconds()) * 1000;
    if (holder && holder !== identity && this.observed.at + durationMs > now.getTime()) return false;

    const mine = holder === identity;
    lease.spec = {
      ...spec,
      holderIdentity: identity,
      leaseDurationSeconds: this.durationSeconds(),
      renewTime: microTime(now),
      acquireTime: mine ? microTime(new Date(timeOf(spec.acquireTime) ?? now.getTime())) : microTime(now),
      leaseTransitions: mine ? (spec.leaseTransitions ?? 0) : (spec.leaseTransitions ?? 0) + 1,
    };
    // A 409 here means someone else wrote first: this round is lost, the next read sees who.
    const written = await this.api.replaceNamespacedLease({ name, namespace, body: lease }).catch((err: unknown) => {
      if (isConflict(err)) return undefined;
      throw err;
    });
    if (!written) return false;
    this.observe(written, now.getTime());
    return true;
  }

  private async release(): Promise<void> {
    const { namespace, name, identity } = this.options;
    const lease = await this.api.readNamespacedLease({ name, namespace });
    if (lease.spec?.holderIdentity !== identity) return;
    const now = microTime();
    lease.spec = { ...lease.spec, holderIdentity: undefined, leaseDurationSeconds: 1, renewTime: now, acquireTime: now };
    await this.api.replaceNamespacedLease({ name, namespace, body: lease });
    this.options.log.info({ lease: name, identity }, 'leader Lease released');
  }

  /** Remembers when the record last changed, on our clock: a holder that stops renewing stops changing it. */
  private observe(lease: V1Lease, at: number): void {
    const spec = lease.spec ?? {};
    const record = JSON.stringify([spec.holderIdentity, String(spec.renewTime), String(spec.acquireTime), spec.leaseTransitions]);
    const holder = spec.holderIdentity || undefined;
    if (record !== this.observed.record) this.observed = { record, at, holder };
    if (holder !== this.lastAnnounced) {
      this.lastAnnounced = holder;
      this.emit('leader', holder);
    }
  }

  private durationSeconds(): number {
    return Math.max(1, Math.ceil(this.options.leaseDurationMs / 1000));
  }
}
