// Starts etcd and kube-apiserver on loopback, the way envtest does (no kubelet, controller-manager or
// scheduler: objects are stored and Pods stay Pending, which is all admission needs). Runs inside the
// supervisor process (kube-supervisor.ts), never in a test process, so that a test process dying in any
// way cannot leave these children behind.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createAuthority, rsaKeyPair } from './kube-pki.js';
import { ADMIN_USER, POD_SECURITY_EXEMPT_USER, PORT_ATTEMPTS, type SupervisorOptions } from './kube-state.js';

export interface LaunchOptions extends SupervisorOptions {
  dir: string;
}

export interface LaunchedPlane {
  server: string;
  kubeconfigPath: string;
  pids: { etcd: number; apiServer: number };
}

const LOG_TAIL_LINES = 40;

export class StartError extends Error {
  constructor(
    message: string,
    readonly portTaken = false,
  ) {
    super(message);
    this.name = 'StartError';
  }
}

interface Child {
  name: string;
  logPath: string;
  process: ChildProcess;
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  exited: Promise<void>;
}

const live = new Set<Child>();
let closed = false;

function start(name: string, bin: string, args: string[], logPath: string): Child {
  // A shutdown can arrive while launch() is between two awaits; nothing may be spawned after it.
  if (closed) throw new StartError(`not starting ${name}: the control plane is shutting down`);
  // A file, not a pipe: nothing has to drain it, and the tail is still there to quote after a crash.
  const fd = openSync(logPath, 'a');
  const proc = spawn(bin, args, { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const child: Child = { name, logPath, process: proc, exit: undefined, exited: Promise.resolve() };
  child.exited = new Promise((resolve) => {
    const done = (code: number | null, signal: NodeJS.Signals | null) => {
      child.exit ??= { code, signal };
      live.delete(child);
      resolve();
    };
    proc.once('exit', done);
    proc.once('error', (err) => {
      child.exit ??= { code: null, signal: null };
      writeFile(logPath, `spawn failed: ${err.message}\n`, { flag: 'a' }).finally(() => done(null, null));
    });
  });
  live.add(child);
  return child;
}

function logTail(logPath: string, lines = LOG_TAIL_LINES): string {
  let text: string;
  try {
    text = readFileSync(logPath, 'utf8');
  } catch {
    return '(no log written)';
  }
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

const describeExit = (exit: NonNullable<Child['exit']>): string =>
  exit.signal ? `signal ${exit.signal}` : exit.code === null ? 'a spawn error' : `code ${exit.code}`;

/** Terminates every child for good: later start() calls throw instead of spawning. */
export async function shutdown(): Promise<void> {
  closed = true;
  await terminateAll();
}

/** Terminates every child still running: SIGTERM, then SIGKILL for any that ignore it. */
async function terminateAll(graceMs = 10_000): Promise<void> {
  // The API server first: it holds watches on etcd and logs noise if etcd goes first.
  for (const child of [...live].reverse()) {
    child.process.kill('SIGTERM');
    const timer = setTimeout(() => child.process.kill('SIGKILL'), graceMs);
    await child.exited;
    clearTimeout(timer);
  }
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function choosePort(what: string, preferred: number | undefined, strict: boolean): Promise<number> {
  if (preferred === undefined) return freePort();
  if (await portFree(preferred)) return preferred;
  if (strict) throw new StartError(`${what} port 127.0.0.1:${preferred} is already in use (strictPorts is set)`, true);
  return freePort();
}

async function waitReady(child: Child, probe: () => Promise<string | true>, deadline: number, timeoutMs: number): Promise<void> {
  let last = 'no answer yet';
  for (;;) {
    if (child.exit) {
      const tail = logTail(child.logPath);
      throw new StartError(
        `${child.name} exited with ${describeExit(child.exit)} before it was ready; last lines of ${child.logPath}:\n${tail}`,
        /address already in use/.test(tail),
      );
    }
    const answer = await probe().catch((err: Error) => err.message);
    if (answer === true) return;
    last = answer;
    if (Date.now() >= deadline) {
      throw new StartError(
        `${child.name} not ready after ${timeoutMs}ms (last answer: ${last}); last lines of ${child.logPath}:\n${logTail(child.logPath)}`,
      );
    }
    await sleep(200);
  }
}

async function etcdHealthy(port: number): Promise<string | true> {
  const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1000) });
  const body = await res.text();
  return res.ok && /"health":\s*"true"/.test(body) ? true : `${res.status} ${body.trim()}`;
}

function apiServerReady(port: number, tls: { ca: string; cert: string; key: string }): Promise<string | true> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/readyz', method: 'GET', timeout: 1000, ...tls }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(res.statusCode === 200 ? true : `${res.statusCode} ${body.trim().split('\n').filter((l) => l.includes('[-]')).join('; ')}`));
    });
    req.on('timeout', () => req.destroy(new Error('/readyz did not answer within 1s')));
    req.on('error', reject);
    req.end();
  });
}

interface Pki {
  caPem: string;
  admin: { certPem: string; keyPem: string };
  files: { ca: string; servingCert: string; servingKey: string; saPublic: string; saPrivate: string };
}

async function writePki(dir: string): Promise<Pki> {
  const pkiDir = join(dir, 'pki');
  await mkdir(pkiDir, { recursive: true });
  const ca = createAuthority('portcullis-test-cluster-ca');
  const serving = ca.issue({ commonName: 'kube-apiserver', ips: ['127.0.0.1'], dnsNames: ['localhost', 'kubernetes.default.svc'], usage: 'server' });
  const admin = ca.issue({ commonName: ADMIN_USER, organizations: ['system:masters'], usage: 'client' });
  const sa = rsaKeyPair();
  const files = {
    ca: join(pkiDir, 'ca.crt'),
    servingCert: join(pkiDir, 'apiserver.crt'),
    servingKey: join(pkiDir, 'apiserver.key'),
    saPublic: join(pkiDir, 'sa.pub'),
    saPrivate: join(pkiDir, 'sa.key'),
  };
  await writeFile(files.ca, ca.certPem);
  await writeFile(files.servingCert, serving.certPem);
  await writeFile(files.servingKey, serving.keyPem, { mode: 0o600 });
  await writeFile(files.saPublic, sa.publicKeyPem);
  await writeFile(files.saPrivate, sa.privateKeyPem, { mode: 0o600 });
  return { caPem: ca.certPem, admin, files };
}

async function writeKubeconfig(path: string, server: string, pki: Pki): Promise<void> {
  const b64 = (pem: string) => Buffer.from(pem).toString('base64');
  // JSON is YAML, so every kubeconfig reader takes it; the data is inline so the file stands alone.
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'portcullis-test', cluster: { server, 'certificate-authority-data': b64(pki.caPem) } }],
    users: [{ name: ADMIN_USER, user: { 'client-certificate-data': b64(pki.admin.certPem), 'client-key-data': b64(pki.admin.keyPem) } }],
    contexts: [{ name: 'portcullis-test', context: { cluster: 'portcullis-test', user: ADMIN_USER } }],
    'current-context': 'portcullis-test',
  };
  await writeFile(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
}

function etcdArgs(dir: string, port: number): string[] {
  const client = `http://127.0.0.1:${port}`;
  return [
    '--name=default',
    `--data-dir=${join(dir, 'etcd')}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    // A single member never talks to peers; port 0 keeps it from claiming the well-known 2380.
    '--listen-peer-urls=http://127.0.0.1:0',
    // Durability is worthless for a throwaway store and fsync dominates its latency.
    '--unsafe-no-fsync',
  ];
}

/**
 * The PodSecurity admission plugin as the API server enables it by default (every level privileged unless a
 * namespace's labels say otherwise), exempting one user (POD_SECURITY_EXEMPT_USER) for the differential test.
 */
async function writeAdmissionConfig(dir: string): Promise<string> {
  const path = join(dir, 'admission-config.json');
  const config = {
    apiVersion: 'apiserver.config.k8s.io/v1',
    kind: 'AdmissionConfiguration',
    plugins: [
      {
        name: 'PodSecurity',
        configuration: {
          apiVersion: 'pod-security.admission.config.k8s.io/v1',
          kind: 'PodSecurityConfiguration',
          defaults: { enforce: 'privileged', 'enforce-version': 'latest', audit: 'privileged', 'audit-version': 'latest', warn: 'privileged', 'warn-version': 'latest' },
          exemptions: { usernames: [POD_SECURITY_EXEMPT_USER], runtimeClasses: [], namespaces: [] },
        },
      },
    ],
  };
  await writeFile(path, `${JSON.stringify(config, null, 2)}\n`);
  return path;
}

function apiServerArgs(port: number, etcdPort: number, pki: Pki, admissionConfig: string, extra: string[]): string[] {
  return [
    `--etcd-servers=http://127.0.0.1:${etcdPort}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${port}`,
    `--tls-cert-file=${pki.files.servingCert}`,
    `--tls-private-key-file=${pki.files.servingKey}`,
    `--client-ca-file=${pki.files.ca}`,
    '--service-account-issuer=https://kubernetes.default.svc',
    `--service-account-key-file=${pki.files.saPublic}`,
    `--service-account-signing-key-file=${pki.files.saPrivate}`,
    '--service-cluster-ip-range=10.0.0.0/24',
    '--authorization-mode=RBAC',
    // No kube-proxy or endpoints to keep in sync on loopback.
    '--endpoint-reconciler-type=none',
    // No controller-manager creates each namespace's default ServiceAccount, and this plugin would
    // refuse every Pod without one.
    '--disable-admission-plugins=ServiceAccount',
    `--admission-control-config-file=${admissionConfig}`,
    '--allow-privileged=true',
    // Given again, a scalar flag overrides its value above; a list flag (--etcd-servers) appends to it.
    ...extra,
  ];
}

async function launchOnce(options: LaunchOptions, pki: Pki, admissionConfig: string, first: boolean): Promise<LaunchedPlane> {
  const strict = options.strictPorts;
  const etcdPort = await choosePort('etcd', first ? options.etcdPort : undefined, strict);
  const apiPort = await choosePort('kube-apiserver', first ? options.apiServerPort : undefined, strict);
  const deadline = Date.now() + options.startTimeoutMs;

  const etcd = start('etcd', join(options.binDir, 'etcd'), etcdArgs(options.dir, etcdPort), join(options.dir, 'etcd.log'));
  await waitReady(etcd, () => etcdHealthy(etcdPort), deadline, options.startTimeoutMs);

  const args = apiServerArgs(apiPort, etcdPort, pki, admissionConfig, options.apiServerArgs);
  const apiServer = start('kube-apiserver', join(options.binDir, 'kube-apiserver'), args, join(options.dir, 'kube-apiserver.log'));
  const tls = { ca: pki.caPem, cert: pki.admin.certPem, key: pki.admin.keyPem };
  await waitReady(apiServer, () => apiServerReady(apiPort, tls), deadline, options.startTimeoutMs);

  const server = `https://127.0.0.1:${apiPort}`;
  const kubeconfigPath = join(options.dir, 'kubeconfig');
  await writeKubeconfig(kubeconfigPath, server, pki);
  return { server, kubeconfigPath, pids: { etcd: etcd.process.pid ?? 0, apiServer: apiServer.process.pid ?? 0 } };
}

/** Starts etcd, then the API server; on any failure stops what it started before throwing. */
export async function launch(options: LaunchOptions): Promise<LaunchedPlane> {
  const pki = await writePki(options.dir);
  const admissionConfig = await writeAdmissionConfig(options.dir);
  for (let attempt = 1; ; attempt++) {
    try {
      return await launchOnce(options, pki, admissionConfig, attempt === 1);
    } catch (err) {
      await terminateAll();
      const retry = err instanceof StartError && err.portTaken && !options.strictPorts && attempt < PORT_ATTEMPTS;
      if (!retry) throw err;
      await rm(join(options.dir, 'etcd'), { recursive: true, force: true });
    }
  }
}
