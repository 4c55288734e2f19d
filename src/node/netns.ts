import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Finds Pods' network namespaces from the node, the way istio-cni's node agent does: a process of the Pod
 * (its sandbox's pause process, or any container's) sits in a cgroup whose path holds the kubelet's
 * `pod<uid>` element: `kubepods/besteffort/pod<uid>/<id>` with the cgroupfs driver,
 * `kubepods-besteffort-pod<uid with underscores>.slice` with the systemd one, in cgroup v1 (one line per
 * hierarchy) and v2 (`0::/...`). Its /proc/<pid>/ns/net is the namespace. The node's own namespace (PID 1's)
 * and the agent's are never returned: a hostNetwork Pod shares them, and redirecting them would cut the
 * node off.
 */
export interface PodNetns {
  pid: number;
  /** /proc/<pid>/ns/net under the agent's view of the host's /proc. */
  path: string;
  /** Its inode: it changes when the kubelet makes a new sandbox. */
  inode: number;
}

const HEX = (n: number) => `[0-9a-f]{${n}}`;
const POD_ELEMENT = new RegExp(`(?:^|[/-])pod(${[8, 4, 4, 4, 12].map(HEX).join('[-_]')})(?:\\.slice)?(?:/|$)`);

/** The Pod uid a /proc/<pid>/cgroup names, if any (dashes, as the API server writes it). */
export function podUidOfCgroup(cgroup: string): string | undefined {
  for (const line of cgroup.split('\n')) {
    // hierarchy-ID:controllers:path; the path may itself hold colons.
    const path = line.split(':').slice(2).join(':');
    const m = POD_ELEMENT.exec(path.toLowerCase());
    if (m) return (m[1] as string).replace(/_/g, '-');
  }
  return undefined;
}

/** One pass over the host's /proc: each Pod's network namespace, by Pod uid. */
export async function scanPodNetns(procRoot: string): Promise<Map<string, PodNetns>> {
  const skip = new Set<number>();
  for (const self of ['self', '1']) {
    const s = await stat(join(procRoot, self, 'ns', 'net')).catch(() => undefined);
    if (s) skip.add(s.ino);
  }
  const found = new Map<string, PodNetns>();
  for (const entry of await readdir(procRoot)) {
    if (!/^\d+$/.test(entry)) continue;
    let uid: string | undefined;
    try {
      uid = podUidOfCgroup(await readFile(join(procRoot, entry, 'cgroup'), 'utf8'));
    } catch {
      continue; // the process ended meanwhile
    }
    if (uid === undefined || found.has(uid)) continue;
    const path = join(procRoot, entry, 'ns', 'net');
    const ns = await stat(path).catch(() => undefined);
    if (!ns || skip.has(ns.ino)) continue;
    found.set(uid, { pid: Number(entry), path, inode: ns.ino });
  }
  return found;
}
