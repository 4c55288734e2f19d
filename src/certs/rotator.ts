import { describe, isConflict } from '../kube/errors.js';
import type { ReplicaRegistry } from '../kube/replicas.js';
import type { CaBundlePublisher } from '../kube/webhooks.js';
import { joinPems } from './pem.js';
import { initialState, plan, type RotationSettings } from './rotation.js';
import type { SecretTlsSource } from './secret-source.js';
import type { CertSecret } from './secret-store.js';

export interface RotatorOptions {
  store: CertSecret;
  source: SecretTlsSource;
  publisher: CaBundlePublisher;
  replicas: ReplicaRegistry;
  settings: RotationSettings;
  /** DNS names and IP addresses the serving certificate covers. */
  names: string[];
  /** How often to look again while waiting on other replicas, which report through their Leases. */
  pollMs: number;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

const PRUNE_EVERY_MS = 60_000;
const MAX_SLEEP_MS = 3_600_000;

/**
 * The leader's certificate loop: publishes the Secret's trust bundle into the webhook configurations and
 * applies rotation.ts' plan to the Secret (with its resourceVersion) whenever something changes or a
 * certificate falls due. Writes that lose a race are dropped: the Secret's watch event runs it again.
 */
export class CertRotator {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  private lastPrune = 0;
  private lastReason = '';
  private readonly kick = () => this.tick();

  constructor(private readonly options: RotatorOptions) {}

  start(): void {
    this.stopped = false;
    this.options.source.on('snapshot', this.kick);
    this.options.publisher.on('published', this.kick);
    this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.options.source.off('snapshot', this.kick);
    this.options.publisher.off('published', this.kick);
    await this.running;
  }

  /** What the last look concluded. */
  status(): string {
    return this.lastReason;
  }

  private tick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.once()
      .catch((err: unknown) => {
        this.options.log.warn({ err: describe(err) }, 'certificate rotation: will try again');
        this.schedule(new Date(Date.now() + this.options.pollMs));
      })
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.tick();
        }
      });
  }

  private schedule(at: Date): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    // Capped: Node fires timers longer than 2^31 ms at once, and a CA's due time is months away.
    this.timer = setTimeout(() => this.tick(), Math.min(MAX_SLEEP_MS, Math.max(0, at.getTime() - Date.now())));
    this.timer.unref();
  }

  private async once(): Promise<void> {
    const { store, source, publisher, replicas, settings, names, log } = this.options;
    const snapshot = source.latest();
    if (!snapshot) return this.schedule(new Date(Date.now() + this.options.pollMs));
    if (!snapshot.state) {
      log.warn({ secret: store.name }, 'the certificate Secret is unusable: replacing it with a new CA and serving certificate');
      await this.write(() => store.replace(snapshot.secret, initialState(settings, names)), 'unusable Secret replaced');
      return;
    }
    const state = snapshot.state;
    const bundle = joinPems(state.trust);
    publisher.setBundle(bundle);
    const now = new Date();
    if (now.getTime() - this.lastPrune > PRUNE_EVERY_MS) {
      this.lastPrune = now.getTime();
      const pruned = await replicas.prune(now.getTime());
      if (pruned.length > 0) log.info({ leases: pruned }, 'removed Leases of replicas long gone');
    }
    const live = await replicas.live(now.getTime());
    const step = plan(state, settings, { now, names, trustPublishedAt: publisher.publishedSince(), servedSerials: live.map((r) => r.serial ?? '') });
    if (step.reason !== this.lastReason) log.info({ reason: step.reason, replicas: live.length }, 'certificate rotation');
    this.lastReason = step.reason;
    const next = step.next;
    if (next) {
      await this.write(() => store.replace(snapshot.secret, next), step.reason);
      return;
    }
    // While waiting on replicas or on publication, look again soon; otherwise at the next due time.
    this.schedule(step.waiting ? new Date(Math.min(step.recheckAt.getTime(), Date.now() + this.options.pollMs)) : step.recheckAt);
  }

  private async write(replace: () => Promise<unknown>, reason: string): Promise<void> {
    try {
      await replace();
      this.options.log.info({ reason }, 'certificate Secret updated');
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
    // The watch delivers the new version (ours or the one we lost to), which ticks again; a timer covers a lost event.
    this.schedule(new Date(Date.now() + this.options.pollMs));
  }
}
