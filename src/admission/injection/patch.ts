import { pointerSegment } from '../../policy/json-pointer.js';
import type { PatchOp } from '../json-patch.js';
import type { Pod } from './pod.js';
import type { NamedItem, Sidecar } from './sidecar.js';
import { STATUS_ANNOTATION } from './trigger.js';

const DEFAULT_CONTAINER = 'kubectl.kubernetes.io/default-container';

export interface InjectionStatus {
  template: string;
  initContainers: string[];
  containers: string[];
  volumes: string[];
  nativeSidecar: boolean;
}

/**
 * Where the sidecar's containers go in the Pod: the init containers first, then the proxies appended to
 * the containers, or (native sidecar) right after those init containers with restartPolicy: Always.
 */
export function placement(sidecar: Sidecar, nativeSidecar: boolean): { initContainers: NamedItem[]; containers: NamedItem[] } {
  if (!nativeSidecar) return { initContainers: sidecar.initContainers, containers: sidecar.containers };
  return { initContainers: [...sidecar.initContainers, ...sidecar.containers.map((c) => ({ ...c, restartPolicy: 'Always' }))], containers: [] };
}

/**
 * The JSON Patch that adds the sidecar to the Pod as the API server sent it. Every operation is written
 * against the original object (lists that are missing are added whole, existing ones grow in place), so
 * the patch applies cleanly and touches nothing else. Returns a message instead when a name is taken.
 */
export function injectionPatch(pod: Pod, sidecar: Sidecar, options: { nativeSidecar: boolean; revision: string }): { ops: PatchOp[]; status: InjectionStatus } | string {
  const { initContainers: inits, containers } = placement(sidecar, options.nativeSidecar);

  const taken = new Set([...pod.spec.containers, ...(pod.spec.initContainers ?? [])].map((c) => c.name));
  for (const c of [...inits, ...containers]) {
    if (taken.has(c.name)) return `the Pod already has a container named "${c.name}" but no ${STATUS_ANNOTATION} annotation: remove that container and let Portcullis inject the sidecar`;
  }
  const volumeNames = new Set((pod.spec.volumes ?? []).map((v) => v.name));
  for (const v of sidecar.volumes) {
    if (volumeNames.has(v.name)) return `volume name "${v.name}" is reserved for the Portcullis sidecar: rename the Pod's volume`;
  }
  // A mount of a volume the Pod does not declare would be satisfied by the sidecar's: its key and token.
  const reserved = new Set(sidecar.volumes.map((v) => v.name));
  for (const c of [...pod.spec.containers, ...(pod.spec.initContainers ?? []), ...(pod.spec.ephemeralContainers ?? [])] as NamedItem[]) {
    for (const m of [c.volumeMounts, c.volumeDevices].flatMap((l) => (Array.isArray(l) ? (l as Array<{ name?: unknown }>) : []))) {
      if (typeof m?.name === 'string' && reserved.has(m.name)) return `container "${c.name}" mounts volume "${m.name}", which is reserved for the Portcullis sidecar (it holds the proxy's keys or token): remove the mount`;
    }
  }

  const ops: PatchOp[] = [];
  if (inits.length > 0) {
    if (pod.spec.initContainers === undefined) ops.push({ op: 'add', path: '/spec/initContainers', value: inits });
    // Before the Pod's own init containers, so their traffic already goes through the mesh.
    else inits.forEach((c, i) => ops.push({ op: 'add', path: `/spec/initContainers/${i}`, value: c }));
  }
  for (const c of containers) ops.push({ op: 'add', path: '/spec/containers/-', value: c });
  if (sidecar.volumes.length > 0) {
    if (pod.spec.volumes === undefined) ops.push({ op: 'add', path: '/spec/volumes', value: sidecar.volumes });
    else for (const v of sidecar.volumes) ops.push({ op: 'add', path: '/spec/volumes/-', value: v });
  }

  const status: InjectionStatus = {
    template: options.revision,
    initContainers: inits.map((c) => c.name),
    containers: containers.map((c) => c.name),
    volumes: sidecar.volumes.map((v) => v.name),
    nativeSidecar: options.nativeSidecar,
  };
  const annotations: Record<string, string> = { [STATUS_ANNOTATION]: JSON.stringify(status) };
  // kubectl logs/exec keep going to the application, not to the proxy appended after it.
  if (pod.metadata?.annotations?.[DEFAULT_CONTAINER] === undefined) annotations[DEFAULT_CONTAINER] = (pod.spec.containers[0] as { name: string }).name;
  if (pod.metadata === undefined) ops.push({ op: 'add', path: '/metadata', value: { annotations } });
  else if (pod.metadata.annotations === undefined) ops.push({ op: 'add', path: '/metadata/annotations', value: annotations });
  else for (const [k, v] of Object.entries(annotations)) ops.push({ op: 'add', path: `/metadata/annotations/${pointerSegment(k)}`, value: v });
  return { ops, status };
}
