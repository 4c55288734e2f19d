import { EventEmitter } from 'node:events';
import {
  AdmissionregistrationV1Api,
  type KubeConfig,
  type V1MutatingWebhookConfiguration,
  type V1ValidatingWebhookConfiguration,
} from '@kubernetes/client-node';
import { describe, isConflict, isNotFound } from './errors.js';
import { Reflector } from './reflector.js';
import { getAsList } from './single.js';

type Configuration = V1MutatingWebhookConfiguration | V1ValidatingWebhookConfiguration;
type Kind = 'mutating' | 'validating';

export interface CaBundleOptions {
  kc: KubeConfig;
  mutating: string[];
  validating: string[];
  resyncMs: number;
  watchTimeoutSeconds: number;
  retryMs: number;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

/**
 * Keeps the caBundle of every webhook in the named Mutating/ValidatingWebhookConfigurations equal to
 * the trust bundle. Each configuration is watched by name, so when something else (a Helm upgrade, a
 * GitOps sync, a person) overwrites the caBundle it is written back within a watch event. Writes carry
 * the resourceVersion that was read; a 409 just waits for the next event. Run by the leader only.
 */
export class CaBundlePublisher extends EventEmitter<{ published: [string] }> {
  private readonly api: AdmissionregistrationV1Api;
  private readonly reflectors: Array<{ kind: Kind; name: string; reflector: Reflector<Configuration, Configuration> }> = [];
  private desired: string | undefined;
  private since: Date | undefined;
  private inFlight = new Set<string>();

  constructor(private readonly options: CaBundleOptions) {
    super();
    this.api = options.kc.makeApiClient(AdmissionregistrationV1Api);
    for (const kind of ['mutating', 'validating'] as const) {
      for (const name of options[kind]) {
        const plural = kind === 'mutating' ? 'mutatingwebhookconfigurations' : 'validatingwebhookconfigurations';
        const reflector = new Reflector<Configuration, Configuration>({
          name: `${plural}/${name}`,
          kc: options.kc,
          path: `/apis/admissionregistration.k8s.io/v1/${plural}`,
          fieldSelector: `metadata.name=${name}`,
          list: getAsList<Configuration>(() => (kind === 'mutating' ? this.api.readMutatingWebhookConfiguration({ name }) : this.api.readValidatingWebhookConfiguration({ name }))),
          keep: (o) => o,
          resyncMs: options.resyncMs,
          watchTimeoutSeconds: options.watchTimeoutSeconds,
          retryMs: options.retryMs,
          log: options.log,
        });
        const check = () => this.reconcile();
        reflector.on('add', check);
        reflector.on('update', check);
        reflector.on('delete', check);
        reflector.on('synced', check);
        this.reflectors.push({ kind, name, reflector });
      }
    }
  }

  start(): void {
    for (const r of this.reflectors) r.reflector.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.reflectors.map((r) => r.reflector.stop()));
  }

  /** The bundle (PEM) to keep in place. */
  setBundle(pem: string): void {
    if (pem === this.desired) return;
    this.desired = pem;
    this.since = undefined;
    this.reconcile();
  }

  /** Since when every configuration that exists carries the current bundle; undefined while one does not. */
  publishedSince(): Date | undefined {
    return this.since;
  }

  status(): Array<{ kind: Kind; name: string; present: boolean; current: boolean }> {
    return this.reflectors.map(({ kind, name, reflector }) => {
      const object = reflector.get(name);
      return { kind, name, present: object !== undefined, current: object !== undefined && this.desired !== undefined && carries(object, this.desired) };
    });
  }

  private reconcile(): void {
    const desired = this.desired;
    if (desired === undefined) return;
    let all = true;
    for (const { kind, name, reflector } of this.reflectors) {
      if (!reflector.synced()) {
        all = false;
        continue;
      }
      const object = reflector.get(name);
      if (!object || carries(object, desired)) continue;
      all = false;
      void this.write(kind, name, object, desired);
    }
    if (all && !this.since) {
      this.since = new Date();
      this.options.log.info({ webhooks: this.reflectors.map((r) => r.name) }, 'caBundle published in the webhook configurations');
      this.emit('published', desired);
    }
  }

  private async write(kind: Kind, name: string, object: Configuration, desired: string): Promise<void> {
    const key = `${kind}/${name}/${object.metadata?.resourceVersion ?? ''}`;
    if (this.inFlight.has(key)) return;
    this.inFlight.add(key);
    const caBundle = Buffer.from(desired).toString('base64');
    const body = structuredClone(object);
    for (const webhook of body.webhooks ?? []) webhook.clientConfig = { ...webhook.clientConfig, caBundle };
    try {
      if (kind === 'mutating') await this.api.replaceMutatingWebhookConfiguration({ name, body: body as V1MutatingWebhookConfiguration });
      else await this.api.replaceValidatingWebhookConfiguration({ name, body: body as V1ValidatingWebhookConfiguration });
      this.options.log.info({ kind, name }, 'caBundle written into the webhook configuration');
    } catch (err) {
      // A conflict or a deletion arrives as a watch event, which reconciles again.
      if (!isConflict(err) && !isNotFound(err)) this.options.log.warn({ kind, name, err: describe(err) }, 'could not write the caBundle');
    } finally {
      this.inFlight.delete(key);
    }
  }
}

function carries(object: Configuration, pem: string): boolean {
  const webhooks = object.webhooks ?? [];
  return webhooks.every((w) => Buffer.from(w.clientConfig?.caBundle ?? '', 'base64').toString('utf8') === pem);
}
