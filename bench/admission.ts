// npm run bench:admission — the admission webhook under HTTPS keep-alive load on loopback: /mutate and
// /validate with test/fixtures/admission/pod-create-deployment.json (its namespace in the mesh, so /mutate
// injects the sidecar and /validate runs every rule), and an HTTPS echo of the same body (the floor), first
// at a fixed 1,000 req/s, then as fast as they answer, each figure the median of alternated runs
// (bench/median.ts). The server runs here, as in production (audit events hashed and written to a file);
// the load comes from vegeta in its own process (precise constant-rate pacing). The last line is one JSON
// object with the figures.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import pino from 'pino';
import { FIXTURES, ROOT } from '../test/helpers/paths.js';
import { frontDoors, parseConfig, startService } from './shipped.js';
import { alternate, median, RUNS } from './median.js';
import { vegeta, type LoadResult } from './vegeta.js';

const FIXED_RATE = 1000;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);

type Load = LoadResult & {
  /** Server CPU (user + system) per answered request, in microseconds: the cost that does not depend on the load generator. */
  cpu_us?: number;
};

async function load(url: string, ca: string, body: string, options: { workers: number; rate?: number; seconds: number }): Promise<Load> {
  const cpu = process.cpuUsage();
  let used = { user: 0, system: 0 };
  const result = await vegeta({ url, ca, body, workers: options.workers, seconds: options.seconds, ...(options.rate ? { rate: options.rate } : {}), onDone: () => (used = process.cpuUsage(cpu)) });
  return { ...result, cpu_us: (used.user + used.system) / Math.max(1, result.requests) };
}

const ms = (v: number) => `${v.toFixed(3)} ms`;
const line = (name: string, mode: string, l: Load) =>
  `${name.padEnd(8)} ${mode.padEnd(16)} ${l.rps.toFixed(0).padStart(6)} req/s   p50 ${ms(l.p50)}   p99 ${ms(l.p99)}   p99.9 ${ms(l.p999)}   max ${ms(l.max)}   server CPU ${(l.cpu_us ?? 0).toFixed(0)} µs/req${l.errors || l.non2xx ? `   errors ${l.errors} non-2xx ${l.non2xx}` : ''}`;

async function main(): Promise<void> {
  execFileSync('bash', [join(ROOT, 'scripts', 'tools.sh'), 'vegeta'], { stdio: 'inherit' });
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-bench-admission-'));
  const facts = join(dir, 'facts.yaml');
  await writeFile(facts, JSON.stringify({ namespaces: [{ name: 'payments', labels: { 'portcullis.io/injection': 'enabled' } }] }));
  const config = parseConfig({
    log: { level: 'error' },
    tls: { dir: join(dir, 'certs') },
    facts: { file: facts },
    admin: { host: '127.0.0.1', port: 0, tokenFile: join(dir, 'token') },
    authz: { enabled: false },
    admission: { host: '127.0.0.1', port: 0 },
    audit: { sinks: [{ type: 'file', path: join(dir, 'audit.log'), maxBytes: 256 * 1024 * 1024, maxFiles: 2 }] },
  });
  await writeFile(join(dir, 'token'), 'bench');
  const log = pino({ level: 'error' });
  const service = await startService({ config, log, stdout: pino.destination({ dest: 2, sync: false }), frontDoors: frontDoors(config) });
  const port = service.listeners.find((l) => l.name === 'admission')?.port;
  const ca = await readFile(join(dir, 'certs', 'ca.crt'), 'utf8');
  const body = await readFile(join(FIXTURES, 'admission', 'pod-create-deployment.json'), 'utf8');
  const figures: Record<string, Figures> = {};
  try {
    console.log(`admission webhook, Node ${process.version}, HTTPS keep-alive on loopback, body ${body.length} bytes; median of ${RUNS} runs of ${SECONDS} s, alternated`);
    // The floor of this machine and harness: an HTTPS echo of the same body (parse, answer a uid), no policy.
    const echo = Fastify({ https: { cert: service.ctx.tls.current().cert, key: service.ctx.tls.current().key }, logger: false, bodyLimit: 8 * 1024 * 1024 });
    echo.post('/echo', async (req) => ({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: (req.body as { request: { uid: string } }).request.uid, allowed: true } }));
    await echo.listen({ host: '127.0.0.1', port: 0 });
    const urls: Record<string, string> = {
      echo: `https://127.0.0.1:${(echo.server.address() as { port: number }).port}/echo`,
      mutate: `https://127.0.0.1:${port}/mutate`,
      validate: `https://127.0.0.1:${port}/validate`,
    };
    // Warm-up: JIT, WASM tier-up, TLS sessions.
    for (const url of Object.values(urls)) await load(url, ca, body, { workers: 16, seconds: 3 });
    const jobs = (options: { workers: number; rate?: number }) => Object.fromEntries(Object.entries(urls).map(([name, url]) => [name, () => load(url, ca, body, { ...options, seconds: SECONDS })]));
    const fixed = await alternate(jobs({ workers: 8, rate: FIXED_RATE }));
    const max = await alternate(jobs({ workers: 16 }));
    await echo.close();
    for (const name of Object.keys(urls)) {
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
      };
    }
  } finally {
    await service.stop();
    await rm(dir, { recursive: true, force: true });
  }
  // The issue's figures first (mutate, validate), then the echo floor they are to be read against.
  console.log(JSON.stringify({ mutate: figures.mutate, validate: figures.validate, echo_floor: figures.echo }));
}

interface Figures {
  rps_max: number;
  p99_ms_at_1000: number;
  p50_ms_at_1000: number;
  p999_ms_at_1000: number;
  p99_ms_max: number;
  cpu_us_per_request: number;
  cpu_us_per_request_at_1000: number;
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}

await main();
