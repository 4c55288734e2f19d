// npm run bench:posture — the posture audit and `portcullis eval` at size.
//
// Audit: a control plane of its own (etcd + kube-apiserver from scripts/tools.sh) holding 10,000 objects,
// Pods and Deployments across 100 namespaces (half of them in the mesh; a third of the objects break a rule
// or several). Portcullis runs as it ships (`node dist/cli.js serve`, Kubernetes mode, the chart's Node
// flags, audit events to a file) in a process of its own, twice: with the audit off, for the baseline, and
// on. Measured from the leader's status: the first full sweep (discovery, every list page, every object
// judged, the reports written) and a second one after a policy data change (every object judged again, the
// reports compared and left alone), objects per second, the API calls made; from /proc: the peak RSS
// (VmHWM) of the run with the audit minus that of the run without.
//
// Eval: 1,000 manifests (one per file: Pods, Deployments, Services), `node dist/cli.js eval -o json DIR`
// timed from process start to exit, median of three.
//
// Goals on the 2-core development VM: a sweep of 10,000 objects under 10 s, under 100 MB of RSS added,
// eval of 1,000 manifests under 3 s. The machine is shared: `uptime` is printed before and after. The last
// line is one JSON object with the figures.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppsV1Api, CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { loadKubeConfig, startControlPlane } from '../test/helpers/controlplane.js';
import { installCrds } from '../test/helpers/kube-crds.js';
import { ROOT } from '../test/helpers/paths.js';

const NAMESPACES = Number(process.env.BENCH_NAMESPACES ?? 100);
const OBJECTS = Number(process.env.BENCH_OBJECTS ?? 10_000);
const MANIFESTS = Number(process.env.BENCH_MANIFESTS ?? 1000);
const CONCURRENCY = 32;
const NODE_FLAGS = ['--max-semi-space-size=32', '--initial-old-space-size=128'];
const TOKEN = 'bench-posture-token';

const uptime = () => execFileSync('uptime', { encoding: 'utf8' }).trim();
const log = (s: string) => process.stdout.write(`${s}\n`);

log(`uptime: ${uptime()}`);
const work = await mkdtemp(join(tmpdir(), 'portcullis-bench-posture-'));
const plane = await startControlPlane();
const cleanup = async () => {
  await plane.stop();
  await rm(work, { recursive: true, force: true });
};
try {
  const figures = { ...(await audit()), ...(await evaluate()) };
  log(`uptime: ${uptime()}`);
  log(JSON.stringify({ uptime: uptime(), ...figures }));
} finally {
  await cleanup();
}

async function audit() {
  const kc = loadKubeConfig(plane);
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  await installCrds(kc);
  await installCrds(kc, join(ROOT, 'charts', 'portcullis', 'crds'));
  await core.createNamespace({ body: { metadata: { name: 'portcullis-system' } } });
  const namespaces = Array.from({ length: NAMESPACES }, (_, i) => `team-${String(i).padStart(3, '0')}`);
  await pool(namespaces, (name, i) => core.createNamespace({ body: { metadata: { name, labels: i % 2 === 0 ? { 'portcullis.io/injection': 'enabled' } : {} } } }));

  // Half Pods, half Deployments; every third object breaks a rule (privileged), every seventh another (an unpinned image).
  const started = Date.now();
  const jobs = Array.from({ length: OBJECTS }, (_, i) => i);
  await pool(jobs, async (i) => {
    const namespace = namespaces[i % NAMESPACES] as string;
    const name = `w${i}`;
    const pod: V1Pod = {
      metadata: { name, labels: { app: name, version: 'v1' } },
      spec: {
        serviceAccountName: 'web',
        containers: [{ name: 'web', image: i % 7 === 0 ? 'registry.example.com/web:latest' : 'registry.example.com/web:1.4.2', securityContext: { privileged: i % 3 === 0 } }],
      },
    };
    if (i % 2 === 0) await core.createNamespacedPod({ namespace, body: pod });
    else await apps.createNamespacedDeployment({ namespace, body: { metadata: { name, labels: { app: name } }, spec: { selector: { matchLabels: { app: name } }, template: { metadata: pod.metadata, spec: pod.spec } } } });
  });
  log(`created ${OBJECTS} objects in ${NAMESPACES} namespaces in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const baseline = await serve(false);
  log(`without the audit: peak RSS ${mb(baseline.hwm)} MB`);
  const run = await serve(true);
  const added = run.hwm - baseline.hwm;
  const first = run.sweeps[0] as Sweep;
  const second = run.sweeps[1] as Sweep;
  log(`with the audit:    peak RSS ${mb(run.hwm)} MB (added ${mb(added)} MB)`);
  log(`first sweep:  ${first.objects} objects in ${(first.durationMs / 1000).toFixed(2)} s (${Math.round(first.objects / (first.durationMs / 1000))} objects/s), reports written: ${run.reports.writes}`);
  log(`second sweep: ${second.objects} objects in ${(second.durationMs / 1000).toFixed(2)} s (${Math.round(second.objects / (second.durationMs / 1000))} objects/s), after a policy data change`);
  log(`API calls: ${JSON.stringify(run.apiCalls)} (audit events: ${run.events})`);
  log(`goals: sweep < 10 s ${first.durationMs < 10_000 ? 'met' : 'NOT met'}; RSS added < 100 MB ${added < 100 * 1024 * 1024 ? 'met' : 'NOT met'}`);
  return {
    objects: OBJECTS,
    namespaces: NAMESPACES,
    sweep_s: first.durationMs / 1000,
    sweep_objects_per_s: Math.round(first.objects / (first.durationMs / 1000)),
    resweep_s: second.durationMs / 1000,
    rss_baseline_mb: mb(baseline.hwm),
    rss_peak_mb: mb(run.hwm),
    rss_added_mb: mb(added),
    api_calls: run.apiCalls,
    report_writes: run.reports.writes,
    audit_events: run.events,
  };
}

interface Sweep {
  reason: string;
  durationMs: number;
  objects: number;
}

/** Portcullis as it ships, in Kubernetes mode against the bench's plane, until its first sweep (and a second) ended. */
async function serve(posture: boolean) {
  const dir = join(work, posture ? 'on' : 'off');
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  const dataFile = join(dir, 'data.yaml');
  await writeFile(dataFile, 'portcullis: {config: {}}\n');
  const config = {
    mode: 'kubernetes',
    log: { level: 'warn' },
    admin: { host: '127.0.0.1', port },
    tls: { dir: join(dir, 'certs') },
    admission: { host: '127.0.0.1', port: 0 },
    authz: { enabled: false },
    audit: { sinks: [{ type: 'file', path: join(dir, 'audit.log') }] },
    policy: { dataFile },
    kubernetes: { kubeconfig: plane.kubeconfigPath, namespace: 'portcullis-system', identity: `bench-${posture ? 'on' : 'off'}`, informers: { nodes: false } },
    posture: { enabled: posture },
  };
  await writeFile(join(dir, 'config.yaml'), JSON.stringify(config));
  const child = spawn(process.execPath, [...NODE_FLAGS, join(ROOT, 'dist', 'cli.js'), 'serve', '--config', join(dir, 'config.yaml')], {
    env: { ...process.env, PORTCULLIS_ADMIN_TOKEN: TOKEN },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    const status = async () => {
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/mesh/status`, { headers: { authorization: `Bearer ${TOKEN}` } }).catch(() => undefined);
      return res?.ok ? ((await res.json()) as { ready: boolean; audit: { events: number }; kubernetes: { factsSynced: boolean; posture?: { lastSweep: Sweep | null; apiCalls: Record<string, number>; reports: { writes: number; pending: number } } } }) : undefined;
    };
    const sweeps: Sweep[] = [];
    let last = await until(async () => {
      const s = await status();
      return s?.ready && s.kubernetes.factsSynced && (!posture || s.kubernetes.posture?.lastSweep) ? s : undefined;
    });
    if (posture) {
      sweeps.push(last.kubernetes.posture?.lastSweep as Sweep);
      // A policy data change: every object is judged again.
      await writeFile(dataFile, 'portcullis: {config: {allowlists: {capabilities: [NET_BIND_SERVICE, CHOWN]}}}\n');
      last = await until(async () => {
        const s = await status();
        const sweep = s?.kubernetes.posture?.lastSweep;
        return sweep && sweep.reason === 'policy' && s.kubernetes.posture?.reports.pending === 0 ? s : undefined;
      });
      sweeps.push(last.kubernetes.posture?.lastSweep as Sweep);
    } else await sleep(5000);
    return { hwm: hwmOf(child), sweeps, apiCalls: last.kubernetes.posture?.apiCalls ?? {}, reports: last.kubernetes.posture?.reports ?? { writes: 0 }, events: last.audit.events };
  } finally {
    await stop(child);
  }
}

async function evaluate() {
  const dir = join(work, 'manifests');
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < MANIFESTS; i++) {
    const kind = i % 3;
    const name = `m${i}`;
    const text =
      kind === 0
        ? `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}, namespace: shop, labels: {app: ${name}, version: v1}}\nspec:\n  serviceAccountName: web\n  containers:\n    - name: web\n      image: registry.example.com/web:${i % 7 === 0 ? 'latest' : '1.4.2'}\n`
        : kind === 1
          ? `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: ${name}, namespace: shop}\nspec:\n  selector: {matchLabels: {app: ${name}}}\n  template:\n    metadata: {labels: {app: ${name}, version: v1}}\n    spec:\n      serviceAccountName: web\n      containers:\n        - name: web\n          image: registry.example.com/web:1.4.2\n          securityContext: {privileged: ${i % 2 === 0}}\n`
          : `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}, namespace: shop}\nspec:\n  ports:\n    - {name: http, port: 80}\n`;
    await writeFile(join(dir, `${name}.yaml`), text);
  }
  const times: number[] = [];
  for (let run = 0; run < 3; run++) {
    const start = process.hrtime.bigint();
    const child = spawn(process.execPath, [join(ROOT, 'dist', 'cli.js'), 'eval', '-o', 'json', '-l', 'shop:portcullis.io/injection=enabled', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
    const [code] = (await once(child, 'exit')) as [number];
    times.push(Number(process.hrtime.bigint() - start) / 1e9);
    if (code !== 1) throw new Error(`eval exited with ${code}, expected 1 (some manifests break rules)`);
  }
  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted[1] as number;
  log(`eval of ${MANIFESTS} manifests: ${median.toFixed(2)} s (runs: ${times.map((t) => t.toFixed(2)).join(', ')}), goal < 3 s ${median < 3 ? 'met' : 'NOT met'}`);
  return { eval_manifests: MANIFESTS, eval_s: median, eval_runs_s: times };
}

/** Runs fn over items, CONCURRENCY at a time. */
async function pool<T>(items: T[], fn: (item: T, index: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i] as T, i);
      }
    }),
  );
}

async function until<T>(check: () => Promise<T | undefined>, timeoutMs = 600_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting for the service');
    await sleep(100);
  }
}

/** The process's peak resident set (VmHWM), in bytes. */
function hwmOf(child: ChildProcess): number {
  const line = readFileSync(`/proc/${child.pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmHWM:')) ?? '';
  return Number(line.replace(/\D+/g, '')) * 1024;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await Promise.race([once(child, 'exit'), sleep(15_000).then(() => child.kill('SIGKILL'))]);
}

function mb(bytes: number): number {
  return Math.round(bytes / 1024 / 102.4) / 10;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}
