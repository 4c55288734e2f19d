// Every kind that carries a Pod, wrapping the same Pod, with the collection path to create it under, so a
// rule can be tried through each way a Pod reaches the cluster.
import type { V1Pod } from '@kubernetes/client-node';

export const POD_BEARING_KINDS = ['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ReplicationController', 'Job', 'CronJob'] as const;
export type PodBearingKind = (typeof POD_BEARING_KINDS)[number];

const PATHS: Record<PodBearingKind, [string, string]> = {
  Pod: ['/api/v1', 'pods'],
  ReplicationController: ['/api/v1', 'replicationcontrollers'],
  Deployment: ['/apis/apps/v1', 'deployments'],
  StatefulSet: ['/apis/apps/v1', 'statefulsets'],
  DaemonSet: ['/apis/apps/v1', 'daemonsets'],
  ReplicaSet: ['/apis/apps/v1', 'replicasets'],
  Job: ['/apis/batch/v1', 'jobs'],
  CronJob: ['/apis/batch/v1', 'cronjobs'],
};

/** The collection a kind is created in, in a namespace. */
export function collectionPath(kind: PodBearingKind, namespace: string): string {
  const [prefix, plural] = PATHS[kind];
  return `${prefix}/namespaces/${namespace}/${plural}`;
}

/** The Pod as `kind`: its metadata (labels, annotations) and spec become the pod template's. */
export function asKind(kind: PodBearingKind, pod: V1Pod): Record<string, unknown> {
  if (kind === 'Pod') return pod as Record<string, unknown>;
  const name = pod.metadata?.name ?? 'workload';
  const labels = pod.metadata?.labels ?? { app: name };
  const template = { metadata: { labels, annotations: pod.metadata?.annotations }, spec: pod.spec };
  const apiVersion = PATHS[kind][0].replace(/^\/apis?\//, '');
  const metadata = { name };
  switch (kind) {
    case 'ReplicationController':
      return { apiVersion, kind, metadata, spec: { selector: labels, template } };
    case 'Deployment':
    case 'DaemonSet':
    case 'ReplicaSet':
      return { apiVersion, kind, metadata, spec: { selector: { matchLabels: labels }, template } };
    case 'StatefulSet':
      return { apiVersion, kind, metadata, spec: { serviceName: name, selector: { matchLabels: labels }, template } };
    case 'Job':
      return { apiVersion, kind, metadata, spec: { template: { ...template, spec: { ...template.spec, restartPolicy: 'Never' } } } };
    case 'CronJob':
      // A CronJob's name has at most 52 characters (its Jobs add a suffix).
      return { apiVersion, kind, metadata: { name: name.slice(0, 52).replace(/-+$/, '') }, spec: { schedule: '0 * * * *', jobTemplate: { spec: { template: { ...template, spec: { ...template.spec, restartPolicy: 'Never' } } } } } };
  }
}
