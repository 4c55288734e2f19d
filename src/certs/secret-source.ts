import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeConfig, V1Secret } from '@kubernetes/client-node';
import { describe } from '../kube/errors.js';
import { Reflector } from '../kube/reflector.js';
import { getAsList } from '../kube/single.js';
import { CertSecret } from './secret-store.js';
import { certInfo, joinPems } from './pem.js';
import type { TlsProvider, TlsSource } from './provider.js';
import { decodeState, type CertState } from './state.js';

export interface SecretSourceOptions {
  kc: KubeConfig;
  store: CertSecret;
  /** The state to create when there is no Secret yet (any replica may create it; only one wins). */
  fresh(): CertState;
  startTimeoutMs: number;
  watch: { resyncMs: number; watchTimeoutSeconds: number; retryMs: number };
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

export interface SecretSnapshot {
  secret: V1Secret;
  /** undefined when the Secret's content is missing or does not parse: the leader replaces it. */
  state: CertState | undefined;
}

/**
 * Every replica serves the pair in the certificate Secret: created at start if missing (one creator
 * wins), then watched; each new serving certificate is set on the TlsProvider, whose servers swap their
 * secure context in place, and reported (onServing) so the leader knows what each replica serves.
 */
export class SecretTlsSource extends EventEmitter<{ snapshot: [SecretSnapshot] }> implements TlsSource {
  private readonly reflector: Reflector<V1Secret, V1Secret>;
  private provider: TlsProvider | undefined;
  private served: string | undefined;
  onServing: (serial: string) => void = () => {};

  constructor(private readonly options: SecretSourceOptions) {
    super();
    const { store } = options;
    this.reflector = new Reflector<V1Secret, V1Secret>({
      name: `secrets/${store.name}`,
      kc: options.kc,
      path: `/api/v1/namespaces/${store.namespace}/secrets`,
      fieldSelector: `metadata.name=${store.name}`,
      list: getAsList(() => store.read()),
      keep: (s) => s,
      ...options.watch,
      log: options.log,
    });
    const seen = (secret: V1Secret) => this.apply(secret);
    this.reflector.on('add', seen);
    this.reflector.on('update', seen);
  }

  async start(provider: TlsProvider): Promise<void> {
    this.provider = provider;
    const deadline = Date.now() + this.options.startTimeoutMs;
    for (let delay = 500; ; delay = Math.min(delay * 2, 5000)) {
      try {
        const { secret, created } = await this.options.store.ensure(this.options.fresh);
        if (created) this.options.log.info({ secret: this.options.store.name }, 'certificate Secret created');
        this.apply(secret);
        break;
      } catch (err) {
        if (Date.now() + delay > deadline) throw new Error(`could not read or create the certificate Secret ${this.options.store.namespace}/${this.options.store.name}: ${describe(err)}`);
        this.options.log.warn({ secret: this.options.store.name, err: describe(err) }, 'certificate Secret not available yet; retrying');
        await sleep(delay);
      }
    }
    this.reflector.start();
    // An unusable Secret is repaired by the leader; until then there is nothing to serve.
    while (this.served === undefined) {
      if (Date.now() > deadline) throw new Error(`the certificate Secret ${this.options.store.name} holds no usable certificate`);
      await sleep(200);
    }
  }

  async stop(): Promise<void> {
    await this.reflector.stop();
  }

  latest(): SecretSnapshot | undefined {
    const secret = this.reflector.get(`${this.options.store.namespace}/${this.options.store.name}`);
    return secret ? { secret, state: decodeState(secret.data) } : undefined;
  }

  /** The serial this replica serves. */
  serving(): string | undefined {
    return this.served;
  }

  private apply(secret: V1Secret): void {
    const state = decodeState(secret.data);
    this.emit('snapshot', { secret, state });
    if (!state || !this.provider) return;
    const info = certInfo(state.serving.cert);
    if (info.serial === this.served) {
      // Same certificate, but the trust bundle and the signer may have changed (CA rollover): keep them current
      // for status, metrics and the workload certificates.
      const ca = joinPems(state.trust);
      const current = this.provider.current();
      if (current.ca !== ca || current.signer?.cert !== state.signer.cert) this.provider.set({ ...current, ca, signer: state.signer });
      return;
    }
    this.provider.set({ cert: state.serving.cert, key: state.serving.key, ca: joinPems(state.trust), signer: state.signer, notAfter: info.notAfter });
    this.served = info.serial;
    this.options.log.info({ serial: info.serial, notAfter: info.notAfter.toISOString() }, 'serving certificate loaded from the Secret');
    this.onServing(info.serial);
  }
}
