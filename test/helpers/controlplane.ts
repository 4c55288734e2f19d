// A real Kubernetes control plane (etcd + kube-apiserver, built by scripts/tools.sh) for tests.
//
// Lifecycle: every plane is owned by a detached supervisor process (kube-supervisor.ts) that starts the
// two servers in a fresh temp dir and watches one "owner" pid. When the owner is gone — however it
// went: a test that threw, a tap timeout, SIGKILL — or when stop() sends it SIGTERM, the supervisor stops
// both servers and removes the dir. Test processes never hold the servers as their own children, so
// nothing they do can orphan them.
//
// Sharing: tap runs each test file in its own process, all children of one runner. sharedControlPlane()
// makes that runner (process.ppid under tap) the owner and keys the plane's dir by its pid: the first
// test file to ask creates the dir atomically (mkdir) and spawns the supervisor, later files find the
// dir and wait for its state.json. Start-up is paid once per `tap` run, only if some file asks, and the
// plane goes away when the runner exits. Outside tap the calling process is the owner.
//
// Use:
//   const plane = await sharedControlPlane();          // or startControlPlane(options) + t.teardown(plane.stop)
//   const kc = loadKubeConfig(plane);                   // admin client certificate (ADMIN_USER)
//   await installCrds(kc);                              // kube-crds.ts: Istio kinds
//   await registerWebhook(kc, config, { until });       // kube-webhooks.ts: clientConfig.url + caBundle
import { spawn } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { alive, PORT_ATTEMPTS, readState, SUPERVISOR_LOG, SUPERVISOR_PID, type SupervisorOptions } from './kube-state.js';

export { ADMIN_USER, POD_SECURITY_EXEMPT_USER } from './kube-state.js';
import { ROOT } from './paths.js';

export const KUBE_BIN_DIR = join(ROOT, '.tools', 'bin');
const SUPERVISOR = join(ROOT, 'test', 'helpers', 'kube-supervisor.ts');
const SHARED_PREFIX = 'portcullis-kube-shared-';
// The supervisor bounds each start attempt itself; this only catches a supervisor that hangs.
const SUPERVISOR_SLACK_MS = 30_000;
const STOP_TIMEOUT_MS = 30_000;

export interface ControlPlaneOptions {
  /** Time for etcd and the API server to become ready, per attempt. */
  startTimeoutMs?: number;
  /** Preferred ports; a taken one is replaced by a free one unless strictPorts is set. */
  etcdPort?: number;
  apiServerPort?: number;
  /** Fail with a clear error instead of moving off a preferred port that is taken. */
  strictPorts?: boolean;
  /** Extra kube-apiserver flags, after the defaults: scalar flags override them, list flags append. */
  apiServerArgs?: string[];
}

export interface ControlPlaneInfo {
  /** https://127.0.0.1:PORT */
  server: string;
  /** Admin (system:masters) client-certificate kubeconfig. */
  kubeconfigPath: string;
  /** Temp dir holding certificates, etcd data, logs and the kubeconfig; removed when the plane stops. */
  dir: string;
  pids: { supervisor: number; etcd: number; apiServer: number };
}

export interface ControlPlane extends ControlPlaneInfo {
  /** Stops both servers and removes the dir; resolves once the supervisor has exited. Idempotent. */
  stop(): Promise<void>;
}

export class ControlPlaneError extends Error {
  constructor(
    message: string,
    /** The plane's temp dir, removed by the time this is thrown from startControlPlane. */
    readonly dir: string,
  ) {
    super(message);
    this.name = 'ControlPlaneError';
  }
}

const DEFAULT_START_TIMEOUT_MS = 90_000;

function requireBinaries(): void {
  for (const name of ['etcd', 'kube-apiserver']) {
    const path = join(KUBE_BIN_DIR, name);
    try {
      accessSync(path, constants.X_OK);
    } catch {
      throw new Error(
        `${name} is missing at ${path}: \`npm test\` builds it first (scripts/test-setup.sh); run alone, ` +
          'build it with `bash scripts/tools.sh test` (tools/kube and tools/etcd, from the Go module proxy; the first build takes minutes)',
      );
    }
  }
}

function resolveOptions(options: ControlPlaneOptions): SupervisorOptions {
  return {
    binDir: KUBE_BIN_DIR,
    startTimeoutMs: options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
    strictPorts: options.strictPorts ?? false,
    apiServerArgs: options.apiServerArgs ?? [],
    ...(options.etcdPort === undefined ? {} : { etcdPort: options.etcdPort }),
    ...(options.apiServerPort === undefined ? {} : { apiServerPort: options.apiServerPort }),
  };
}

function spawnSupervisor(dir: string, owner: number, options: SupervisorOptions): number {
  // tap's loaders and coverage hooks are for test processes; a supervisor carrying them would be
  // counted as part of the test that happened to start it.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_OPTIONS' && !/^_?TAP/.test(k)));
  const log = openSync(join(dir, SUPERVISOR_LOG), 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', SUPERVISOR, dir, String(owner), JSON.stringify(options)], {
    cwd: ROOT,
    env,
    detached: true,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  child.unref();
  if (child.pid === undefined) throw new ControlPlaneError(`could not start the control-plane supervisor (${process.execPath})`, dir);
  return child.pid;
}

function supervisorLog(dir: string): string {
  try {
    return readFileSync(join(dir, SUPERVISOR_LOG), 'utf8').trimEnd();
  } catch {
    return '(no supervisor log)';
  }
}

async function awaitReady(dir: string, supervisor: number, timeoutMs: number): Promise<Omit<ControlPlaneInfo, 'dir'>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await readState(dir);
    if (state?.status === 'ready') return state;
    if (state?.status === 'failed') throw new ControlPlaneError(state.message, dir);
    if (!alive(supervisor)) throw new ControlPlaneError(`control-plane supervisor ${supervisor} exited without reporting; its log:\n${supervisorLog(dir)}`, dir);
    if (Date.now() >= deadline) throw new ControlPlaneError(`control-plane supervisor ${supervisor} reported nothing within ${timeoutMs}ms; its log:\n${supervisorLog(dir)}`, dir);
    await sleep(100);
  }
}

async function stopSupervisor(pid: number, dir: string): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (alive(pid)) {
    if (Date.now() >= deadline) {
      signal('SIGKILL');
      break;
    }
    await sleep(50);
  }
  // The supervisor removes it; this covers one that had to be killed.
  await rm(dir, { recursive: true, force: true });
}

/** A control plane of the caller's own, stopped by stop() or, failing that, when the calling process exits. */
export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  requireBinaries();
  const resolved = resolveOptions(options);
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-kube-'));
  const supervisor = spawnSupervisor(dir, process.pid, resolved);
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= stopSupervisor(supervisor, dir));
  try {
    const ready = await awaitReady(dir, supervisor, resolved.startTimeoutMs * PORT_ATTEMPTS + SUPERVISOR_SLACK_MS);
    return { server: ready.server, kubeconfigPath: ready.kubeconfigPath, pids: ready.pids, dir, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function sweepStaleShared(): Promise<void> {
  const stale = readdirSync(tmpdir()).filter((name) => {
    const owner = Number(name.startsWith(SHARED_PREFIX) ? name.slice(SHARED_PREFIX.length) : NaN);
    // Left by a supervisor that was itself killed: its run is over, so nobody can still be using it.
    return Number.isInteger(owner) && !alive(owner);
  });
  await Promise.all(stale.map((name) => rm(join(tmpdir(), name), { recursive: true, force: true })));
}

async function sharedSupervisorPid(dir: string): Promise<number> {
  // The creator writes the pid file right after mkdir; give a slow creator a moment.
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return Number(readFileSync(join(dir, SUPERVISOR_PID), 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || Date.now() >= deadline) throw new ControlPlaneError(`shared control plane in ${dir} has no supervisor pid: ${String(err)}`, dir);
    }
    await sleep(100);
  }
}

/**
 * The control plane shared by every test file of this tap run (see the top of this file). Tests must
 * keep to their own namespaces and cluster-scoped names, and remove cluster-scoped objects (webhook
 * configurations) they create. A failed start is reported to every file that asks, without a retry.
 */
export async function sharedControlPlane(): Promise<ControlPlaneInfo> {
  requireBinaries();
  const owner = process.env.TAP_CHILD_ID ? process.ppid : process.pid;
  await sweepStaleShared();
  const dir = join(tmpdir(), `${SHARED_PREFIX}${owner}`);
  const options = resolveOptions({});
  let supervisor: number;
  try {
    await mkdir(dir);
    supervisor = spawnSupervisor(dir, owner, options);
    writeFileSync(join(dir, SUPERVISOR_PID), String(supervisor));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    supervisor = await sharedSupervisorPid(dir);
  }
  const ready = await awaitReady(dir, supervisor, options.startTimeoutMs * PORT_ATTEMPTS + SUPERVISOR_SLACK_MS);
  return { server: ready.server, kubeconfigPath: ready.kubeconfigPath, pids: ready.pids, dir };
}

export function loadKubeConfig(plane: Pick<ControlPlaneInfo, 'kubeconfigPath'>): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(plane.kubeconfigPath);
  return kc;
}

/** A client of the same API server authenticated as a ServiceAccount, with a token the admin client requests for it. */
export async function serviceAccountKubeConfig(kc: KubeConfig, namespace: string, name: string, expirationSeconds = 600): Promise<KubeConfig> {
  const token = await kc.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({ name, namespace, body: { spec: { audiences: ['https://kubernetes.default.svc'], expirationSeconds } } });
  const cluster = kc.getCurrentCluster();
  const sa = new KubeConfig();
  sa.loadFromOptions({
    clusters: [{ name: 'test', server: cluster?.server ?? '', caData: cluster?.caData, caFile: cluster?.caFile, skipTLSVerify: false }],
    users: [{ name, token: token.status?.token }],
    contexts: [{ name, cluster: 'test', user: name }],
    currentContext: name,
  });
  return sa;
}
