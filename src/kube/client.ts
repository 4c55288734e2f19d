import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { KubeConfig } from '@kubernetes/client-node';
import type { KubernetesConfig } from './config.js';

const SERVICE_ACCOUNT_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** Credentials: an explicit kubeconfig, else the Pod's service account, else the usual KUBECONFIG / ~/.kube/config. */
export function kubeConfig(config: KubernetesConfig): KubeConfig {
  const kc = new KubeConfig();
  if (config.kubeconfig) kc.loadFromFile(config.kubeconfig);
  else if (process.env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
  else kc.loadFromDefault();
  return kc;
}

/** Where this replica's Secret and Leases live: configured, the Downward API's POD_NAMESPACE, or the service account's. */
export function ownNamespace(config: KubernetesConfig): string {
  if (config.namespace) return config.namespace;
  if (process.env.POD_NAMESPACE) return process.env.POD_NAMESPACE;
  try {
    return readFileSync(SERVICE_ACCOUNT_NAMESPACE, 'utf8').trim();
  } catch {
    throw new Error('kubernetes.namespace is not set and neither POD_NAMESPACE nor a service account namespace is available');
  }
}

/** This replica's name in Leases: unique per Pod, so the Pod name (Downward API) when there is one. */
export function ownIdentity(config: KubernetesConfig): string {
  return config.identity ?? process.env.POD_NAME ?? hostname();
}

/** The names the webhook's Service answers to inside the cluster. */
export function serviceDnsNames(service: string, namespace: string, clusterDomain: string): string[] {
  return [service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.${clusterDomain}`];
}
