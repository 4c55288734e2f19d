// npm run bench:admission — the admission webhook under HTTPS keep-alive load on loopback: /mutate and
// /validate with test/fixtures/admission/pod-create-deployment.json (its namespace in the mesh, so /mutate
// injects the sidecar and /validate runs every rule), /validate of that Pod as /mutate injected it (what the
// API server sends it in production: the injector's claim check renders the sidecar for the Pod and compares
// it, then every rule runs on the whole injected Pod), and an HTTPS echo of the same body (the floor), first
// at a fixed 1,000 req/s, then as fast as they answer, each figure the median of alternated runs
// (bench/median.ts); each fixed-rate run measures its last SECONDS after a second of warm-up, in which vegeta
// opens its connections (TLS handshakes the API server's kept-alive connections do not pay per review). The
// server runs here, as in production (audit events hashed and written to a file);
// the load comes from its own process: vegeta at the fixed rate (precise constant-rate pacing), wrk at the
// maximum (bench/wrk.ts). Decisions run on BENCH_WORKERS worker threads (admission.workers, default 2 on
// this 2-core machine; 0 decides on the main thread). Each run also reports what its tail is made of: how
// long the server's main thread was ready to run but waited for a core (/proc schedstat), and its garbage
// collections. The last line is one JSON object with the figures.
import { execFileSync, spawn } from 'node:child_process';
import { request } from 'node:https';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { join } from 'node:path';
import fastJsonPatch from 'fast-json-patch';
import pino from 'pino';
import { FIXTURES, ROOT } from '../test/helpers/paths.js';
import { frontDoors, parseConfig, startService } from './shipped.js';
import { alternate, median } from './median.js';
import { vegeta, type LoadResult } from './vegeta.js';
import { ensureWrk, wrk } from './wrk.js';

const FIXED_RATE = 1000;
/** Seconds at the start of each fixed-rate run left out of its figures (bench/vegeta.ts). */
const WARMUP = 1;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2);
/** Five, not the other benchmarks' three: on this VM one run in three or four has a p99 several times the others'. */
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

type Load = LoadResult & {
  /** Server CPU (user + system) per answered request, in microseconds: the cost that does not depend on the load generator. */
  cpu_us?: number;
  /** Milliseconds per second the server's main thread was ready to run but waited for a core (the VM's and the load generator's share of the latency). */
  wait_ms_per_s?: number;
  /** The server's main-thread garbage collections during the run (in-process targets only). */
  gc?: GcPauses;
};

interface GcPauses {
  minor: number;
  minorMedianMs: number;
  major: number;
  majorMaxMs: number;
}

// The server runs in this process: its main thread's collections are observed here, to tell a run's pauses apart.
const collections: Array<{ at: number; ms: number; minor: boolean }> = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) collections.push({ at: e.startTime, ms: e.duration, minor: (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR });
}).observe({ entryTypes: ['gc'] });

function pausesBetween(from: number, to: number): GcPauses {
  const during = collections.filter((c) => c.at >= from && c.at <= to);
  const minor = during.filter((c) => c.minor).map((c) => c.ms);
  const major = during.filter((c) => !c.minor).map((c) => c.ms);
  return { minor: minor.length, minorMedianMs: minor.length > 0 ? median(minor, (v) => v) : 0, major: major.length, majorMaxMs: Math.max(0, ...major) };
}

/** CPU time (user + system) in microseconds of this process, or of another one read from /proc. */
function cpuOf(pid?: number): number {
  if (pid === undefined) {
    const u = process.cpuUsage();
    return u.user + u.system;
  }
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS;
}
const CLOCK_TICKS = 100;

/** Nanoseconds a process's main thread has spent runnable but not running (the second field of schedstat). */
function waitOf(pid = process.pid): number {
  return Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[1]);
}

interface Target {
  url: string;
  /** The server's process when it is not this one (the echo). */
  pid?: number;
  /** Another review than the fixture's. */
  body?: string;
}

/** The fixture's review as /validate gets it after /mutate: the object with the sidecar's patch applied. */
async function injectedReview(url: string, ca: string, body: string): Promise<string> {
  const reply = await new Promise<string>((resolve, reject) => {
    const req = request(url, { method: 'POST', ca, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => resolve(text));
    });
    req.on('error', reject).end(body);
  });
  const response = (JSON.parse(reply) as { response: { allowed: boolean; patch?: string } }).response;
  if (!response.allowed || !response.patch) throw new Error(`/mutate did not inject the fixture: ${reply}`);
  const review = JSON.parse(body) as { request: { object: unknown } };
  review.request.object = fastJsonPatch.applyPatch(review.request.object, JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8')) as fastJsonPatch.Operation[], true, false).newDocument;
  return JSON.stringify(review);
}

async function load(target: Target, ca: string, body: string, options: { workers: number; rate?: number; seconds: number }): Promise<Load> {
  const [cpuBefore, waitBefore, started] = [cpuOf(target.pid), waitOf(target.pid), performance.now()];
  let used = 0;
  let waited = 0;
  let ended = started + 1000;
  const onDone = () => {
    used = cpuOf(target.pid) - cpuBefore;
    waited = waitOf(target.pid) - waitBefore;
    ended = performance.now();
  };
  const job = { url: target.url, body, workers: options.workers, seconds: options.seconds, onDone };
  const result = options.rate ? await vegeta({ ...job, ca, rate: options.rate, warmup: WARMUP }) : await wrk(job);
  return {
    ...result,
    cpu_us: used / Math.max(1, result.requests + (result.warmupRequests ?? 0)),
    wait_ms_per_s: waited / 1e3 / (ended - started),
    ...(target.pid === undefined ? { gc: pausesBetween(started, ended) } : {}),
  };
}

const ms = (v: number) => `${v.toFixed(3)} ms`;
const line = (name: string, mode: string, l: Load) =>
  `${name.padEnd(17)} ${mode.padEnd(16)} ${l.rps.toFixed(0).padStart(6)} req/s   p50 ${ms(l.p50)}   p99 ${ms(l.p99)}   p99.9 ${ms(l.p999)}   max ${ms(l.max)}   server CPU ${(l.cpu_us ?? 0).toFixed(0)} µs/req   main thread waiting for a core ${(l.wait_ms_per_s ?? 0).toFixed(0)} ms/s${l.gc ? `   GC: ${l.gc.minor} minor (median ${l.gc.minorMedianMs.toFixed(1)} ms), ${l.gc.major} full${l.gc.major ? ` (max ${l.gc.majorMaxMs.toFixed(1)} ms)` : ''}` : ''}${l.errors || l.non2xx ? `   errors ${l.errors} non-2xx ${l.non2xx}` : ''}`;

async function main(): Promise<void> {
  execFileSync('bash', [join(ROOT, 'scripts', 'tools.sh'), 'vegeta'], { stdio: 'inherit' });
  ensureWrk();
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-bench-admission-'));
  const facts = join(dir, 'facts.yaml');
  await writeFile(facts, JSON.stringify({ namespaces: [{ name: 'payments', labels: { 'portcullis.io/injection': 'enabled' } }] }));
  const config = parseConfig({
    log: { level: 'error' },
    tls: { dir: join(dir, 'certs') },
    facts: { file: facts },
    admin: { host: '127.0.0.1', port: 0, tokenFile: join(dir, 'token') },
    authz: { enabled: false },
    admission: { host: '127.0.0.1', port: 0, workers: WORKERS },
    audit: { sinks: [{ type: 'file', path: join(dir, 'audit.log'), maxBytes: 256 * 1024 * 1024, maxFiles: 2 }] },
  });
  await writeFile(join(dir, 'token'), 'bench');
  const log = pino({ level: 'error' });
  const service = await startService({ config, log, stdout: pino.destination({ dest: 2, sync: false }), frontDoors: frontDoors(config) });
  const port = service.listeners.find((l) => l.name === 'admission')?.port;
  const ca = await readFile(join(dir, 'certs', 'ca.crt'), 'utf8');
  const body = await readFile(join(FIXTURES, 'admission', 'pod-create-deployment.json'), 'utf8');
  // The floor of this machine and harness, in its own process: an HTTPS echo of the same body (parse, answer a uid).
  const echo = spawn(process.execPath, [...process.execArgv, join(ROOT, 'bench', 'echo-server.ts'), join(dir, 'certs', 'tls.crt'), join(dir, 'certs', 'tls.key')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [portLine] = (await once(echo.stdout, 'data')) as [Buffer];
  const echoPort = Number(portLine.toString());
  const figures: Record<string, Figures> = {};
  try {
    console.log(`admission webhook, ${WORKERS} decision workers (admission.workers), Node ${process.version} ${process.execArgv.filter((a) => a.includes('-space-size')).join(' ')}, HTTPS keep-alive on loopback, body ${body.length} bytes; median of ${RUNS} runs of ${SECONDS} s, alternated; fixed rate from vegeta (after ${WARMUP} s of warm-up), maximum from wrk`);
    const targets: Record<string, Target> = {
      echo: { url: `https://127.0.0.1:${echoPort}/echo`, pid: echo.pid },
      mutate: { url: `https://127.0.0.1:${port}/mutate` },
      validate: { url: `https://127.0.0.1:${port}/validate` },
      validate_injected: { url: `https://127.0.0.1:${port}/validate`, body: await injectedReview(`https://127.0.0.1:${port}/mutate`, ca, body) },
    };
    // Warm-up: JIT, WASM tier-up, TLS sessions.
    for (const target of Object.values(targets)) await load(target, ca, target.body ?? body, { workers: 16, seconds: 3 });
    const jobs = (options: { workers: number; rate?: number }) =>
      Object.fromEntries(Object.entries(targets).map(([name, target]) => [name, () => load(target, ca, target.body ?? body, { ...options, seconds: SECONDS })]));
    const fixed = await alternate(jobs({ workers: 8, rate: FIXED_RATE }), RUNS);
    const max = await alternate(jobs({ workers: 32 }), RUNS);
    for (const name of Object.keys(targets)) {
      const f = median(fixed[name] ?? [], (l) => l.p99);
      const m = median(max[name] ?? [], (l) => l.rps);
      console.log(line(name, `fixed ${FIXED_RATE}/s`, f), `  (p99 of each run: ${(fixed[name] ?? []).map((l) => l.p99.toFixed(2)).join(', ')} ms)`);
      console.log(line(name, 'max throughput', m), `  (each run: ${(max[name] ?? []).map((l) => l.rps.toFixed(0)).join(', ')} req/s)`);
      figures[name] = {
        rps_max: Math.round(m.rps),
        p99_ms_at_1000: round(f.p99),
        p50_ms_at_1000: round(f.p50),
        p999_ms_at_1000: round(f.p999),
        p99_ms_max: round(m.p99),
        cpu_us_per_request: Math.round(m.cpu_us ?? 0),
        cpu_us_per_request_at_1000: Math.round(f.cpu_us ?? 0),
        main_thread_wait_ms_per_s_at_1000: Math.round(f.wait_ms_per_s ?? 0),
      };
    }
  } finally {
    echo.kill();
    await service.stop();
    await rm(dir, { recursive: true, force: true });
  }
  // The issue's figures first (mutate, validate), then the echo floor they are to be read against.
  console.log(JSON.stringify({ mutate: figures.mutate, validate: figures.validate, validate_injected: figures.validate_injected, echo_floor: figures.echo, workers: WORKERS }));
}

interface Figures {
  rps_max: number;
  p99_ms_at_1000: number;
  p50_ms_at_1000: number;
  p999_ms_at_1000: number;
  p99_ms_max: number;
  cpu_us_per_request: number;
  cpu_us_per_request_at_1000: number;
  main_thread_wait_ms_per_s_at_1000: number;
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}

await main();
