// Registers admission webhook configurations that send the API server to a server on loopback. Only
// URL-based clientConfig works here: a Service reference needs kube-proxy and endpoints, which a bare
// API server does not have.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AdmissionregistrationV1Api,
  ApiException,
  type AdmissionregistrationV1WebhookClientConfig,
  type KubeConfig,
  type V1MutatingWebhookConfiguration,
  type V1ValidatingWebhookConfiguration,
} from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { ROOT } from './paths.js';

export type WebhookConfiguration =
  | (V1ValidatingWebhookConfiguration & { kind: 'ValidatingWebhookConfiguration' })
  | (V1MutatingWebhookConfiguration & { kind: 'MutatingWebhookConfiguration' });

export interface RegisteredWebhook {
  name: string;
  /** Deletes the configuration; a configuration already gone counts as removed. */
  remove(): Promise<void>;
}

export interface RegisterOptions {
  /**
   * Polled after creation until it resolves true. The API server picks configurations up through an
   * informer, so the first requests after a create can still miss the webhook; a probe (typically a
   * dry-run request the webhook answers) tells when it is in force.
   */
  until?: () => Promise<boolean>;
  timeoutMs?: number;
}

export function urlClientConfig(url: string, caPem: string): AdmissionregistrationV1WebhookClientConfig {
  return { url, caBundle: Buffer.from(caPem).toString('base64') };
}

/**
 * A configuration of the repository's webhooks/ sent to a test's server on loopback and limited to the
 * namespaces labelled for that test (the control plane is shared), renamed with `suffix` so tests do not
 * replace each other's.
 */
export async function shippedWebhook(
  file: 'validating.yaml' | 'mutating.yaml',
  to: { port: number; ca: string; path: string },
  select: { label: string; value: string; suffix: string; timeoutSeconds?: number },
): Promise<WebhookConfiguration> {
  const doc = parseYaml(await readFile(join(ROOT, 'webhooks', file), 'utf8')) as WebhookConfiguration;
  doc.metadata = { name: `${doc.metadata?.name}-${select.suffix}` };
  for (const w of doc.webhooks ?? []) {
    w.clientConfig = urlClientConfig(`https://127.0.0.1:${to.port}${to.path}`, to.ca);
    w.namespaceSelector = { matchLabels: { [select.label]: select.value } };
    if (select.timeoutSeconds !== undefined) w.timeoutSeconds = select.timeoutSeconds;
  }
  return doc;
}

export async function registerWebhook(kc: KubeConfig, config: WebhookConfiguration, options: RegisterOptions = {}): Promise<RegisteredWebhook> {
  const api = kc.makeApiClient(AdmissionregistrationV1Api);
  const name = config.metadata?.name;
  if (!name) throw new Error('a webhook configuration needs metadata.name');
  const body = { ...config, apiVersion: 'admissionregistration.k8s.io/v1' };
  if (body.kind === 'ValidatingWebhookConfiguration') await api.createValidatingWebhookConfiguration({ body });
  else await api.createMutatingWebhookConfiguration({ body });

  const remove = async () => {
    try {
      if (config.kind === 'ValidatingWebhookConfiguration') await api.deleteValidatingWebhookConfiguration({ name });
      else await api.deleteMutatingWebhookConfiguration({ name });
    } catch (err) {
      if (!(err instanceof ApiException && err.code === 404)) throw err;
    }
  };

  if (options.until) {
    const timeoutMs = options.timeoutMs ?? 15_000;
    const deadline = Date.now() + timeoutMs;
    while (!(await options.until())) {
      if (Date.now() >= deadline) {
        await remove();
        throw new Error(`webhook configuration ${name} not in force within ${timeoutMs}ms`);
      }
      await sleep(100);
    }
  }
  return { name, remove };
}
