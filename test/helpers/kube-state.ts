// What a control-plane supervisor and its clients tell each other through the plane's directory: the
// supervisor writes state.json once (ready or failed); clients poll for it. A file, not IPC, because
// clients of a shared plane are other test processes that never spawned the supervisor.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface SupervisorOptions {
  binDir: string;
  startTimeoutMs: number;
  etcdPort?: number;
  apiServerPort?: number;
  strictPorts: boolean;
  apiServerArgs: string[];
}

export interface ReadyState {
  status: 'ready';
  server: string;
  kubeconfigPath: string;
  pids: { supervisor: number; etcd: number; apiServer: number };
}

export interface FailedState {
  status: 'failed';
  message: string;
}

export type SupervisorState = ReadyState | FailedState;

/** The kubeconfig's user: a client certificate in system:masters, so RBAC lets it do anything. */
export const ADMIN_USER = 'portcullis-test-admin';

/**
 * The one user the API server's PodSecurity admission plugin exempts (its AdmissionConfiguration): requests
 * made as this user (the admin impersonates it) reach webhooks with the namespace's pod-security labels
 * unjudged by the plugin, so a test can ask Portcullis and the plugin about the same object.
 */
export const POD_SECURITY_EXEMPT_USER = 'portcullis-test:pod-security-exempt';

/**
 * Start attempts when the API server or etcd loses its automatically chosen port to another process
 * between our probe and its bind; clients scale their patience by it.
 */
export const PORT_ATTEMPTS = 3;

export const SUPERVISOR_LOG = 'supervisor.log';
export const SUPERVISOR_PID = 'supervisor.pid';
const STATE = 'state.json';

export async function writeState(dir: string, state: SupervisorState): Promise<void> {
  // Renamed into place so that a polling reader never parses half a file.
  const tmp = join(dir, `${STATE}.tmp`);
  await writeFile(tmp, JSON.stringify(state));
  await rename(tmp, join(dir, STATE));
}

export async function readState(dir: string): Promise<SupervisorState | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, STATE), 'utf8')) as SupervisorState;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** True while a process with that pid exists (EPERM means it exists but is not ours). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
