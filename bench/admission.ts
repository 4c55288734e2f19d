// npm run bench:admission — the admission webhook under HTTPS keep-alive load on loopback: /mutate and
// /validate with test/fixtures/admission/pod-create-deployment.json (its namespace in the mesh, so /mutate
// injects the sidecar and /validate runs every rule), first at a fixed 1,000 req/s, then as fast as it
// answers. The server runs here, as in production (audit events hashed and written to a file); the load
// comes from vegeta in its own process (precise constant-rate pacing). The last line is one JSON object with the figures.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import pino from 'pino';
import { FIXTURES, ROOT } from '../test/helpers/paths.js';
import { frontDoors, parseConfig, startService } from './shipped.js';
import { vegeta, type LoadResult } from './vegeta.js';

const FIXED_RATE = 1000;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);

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
  const figures: Record<string, { rps_max: number; p99_ms_at_1000: number; p50_ms_at_1000: number; p999_ms_at_1000: number; p99_ms_max: number; cpu_us_per_request: number }> = {};
  try {
    console.log(`admission webhook, Node ${process.version}, HTTPS keep-alive on loopback, ${SECONDS} s per run, body ${body.length} bytes`);
    // The floor of this machine and harness: an HTTPS echo of the same body (parse, answer a uid), no policy.
    const echo = Fastify({ https: { cert: service.ctx.tls.current().cert, key: service.ctx.tls.current().key }, logger: false, bodyLimit: 8 * 1024 * 1024 });
    echo.post('/echo', async (req) => ({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: (req.body as { request: { uid: string } }).request.uid, allowed: true } }));
    await echo.listen({ host: '127.0.0.1', port: 0 });
    const echoUrl = `https://127.0.0.1:${(echo.server.address() as { port: number }).port}/echo`;
    await load(echoUrl, ca, body, { workers: 16, seconds: 3 });
    console.log(line('echo', `fixed ${FIXED_RATE}/s`, await load(echoUrl, ca, body, { workers: 8, rate: FIXED_RATE, seconds: SECONDS })));
    console.log(line('echo', 'max throughput', await load(echoUrl, ca, body, { workers: 16, seconds: SECONDS })));
    await echo.close();

    for (const name of ['mutate', 'validate']) {
      const url = `https://127.0.0.1:${port}/${name}`;
      await load(url, ca, body, { workers: 16, seconds: 3 }); // warm-up: JIT, WASM tier-up, TLS sessions
      const fixed = await load(url, ca, body, { workers: 8, rate: FIXED_RATE, seconds: SECONDS });
      console.log(line(name, `fixed ${FIXED_RATE}/s`, fixed));
      const max = await load(url, ca, body, { workers: 16, seconds: SECONDS });
      console.log(line(name, 'max throughput', max));
      figures[name] = {
        rps_max: Math.round(max.rps),
        p99_ms_at_1000: round(fixed.p99),
        p50_ms_at_1000: round(fixed.p50),
        p999_ms_at_1000: round(fixed.p999),
        p99_ms_max: round(max.p99),
        cpu_us_per_request: Math.round(max.cpu_us ?? 0),
      };
    }
  } finally {
    await service.stop();
    await rm(dir, { recursive: true, force: true });
  }
  console.log(JSON.stringify(figures));
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}

await main();
