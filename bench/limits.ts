// npm run bench:limits — what the largest and most awkward reviews cost, with the limits of docs/limits.md:
//   1. evaluation time against input size, shape by shape (test/helpers/large-reviews.ts), as a decision
//      worker spends it (parse, limits, policy, answer), with the growth between sizes: a rule that is not
//      linear shows as an exponent well above 1;
//   2. the longest any single review holds the event loop of the running service (HTTPS, default settings),
//      for every shape at the largest size decided on the main thread and at the largest admissible size up
//      to the body limit; the reviews come from curl, in processes of their own;
//   3. the peak resident memory of the service while the largest admissible reviews arrive at once.
// The last line is one JSON object with the figures. BENCH_QUICK=1 measures fewer sizes.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { promisify } from 'node:util';
import pino from 'pino';
import { INLINE, cheapEnoughInline } from '../src/admission/inline-gate.js';
import type { DecideDeps } from '../src/admission/decide.js';
import type * as Decide from '../src/admission/decide.js';
import type * as Engine from '../src/policy/engine.js';
import type * as Bundle from '../src/policy/bundle/bundle.js';
import type * as Archive from '../src/policy/bundle/archive.js';
import type * as Files from '../src/policy/bundle/files.js';
import type * as Mask from '../src/audit/mask.js';
import type * as Injection from '../src/admission/injection/injector.js';
import type * as Authority from '../src/certs/authority.js';
import { BUILTIN_BUNDLE, ROOT } from '../test/helpers/paths.js';
import { largest, pod, SHAPES, sized, withinLimits as fitsLimits, type Shape } from '../test/helpers/large-reviews.js';
import { frontDoors, parseConfig, startService } from './shipped.js';

const run = promisify(execFile);
const QUICK = process.env.BENCH_QUICK === '1';
const dist = <T>(module: string) => import(join(ROOT, 'dist', module)) as Promise<T>;
const { decide } = await dist<typeof Decide>('admission/decide.js');
const { PolicyEngine } = await dist<typeof Engine>('policy/engine.js');
const { loadBundle } = await dist<typeof Bundle>('policy/bundle/bundle.js');
const { readArchive } = await dist<typeof Archive>('policy/bundle/archive.js');
const { DEFAULT_LIMITS } = await dist<typeof Files>('policy/bundle/files.js');
const { Masker } = await dist<typeof Mask>('audit/mask.js');
const { Injector } = await dist<typeof Injection>('admission/injection/injector.js');
const { createCa } = await dist<typeof Authority>('certs/authority.js');

const defaults = parseConfig({});
const BODY_LIMIT = defaults.admission.maxBodyBytes;
const withinLimits = fitsLimits(defaults.admission.limits);
const SIZES = QUICK ? [16 * 1024, 256 * 1024, BODY_LIMIT] : [4 * 1024, 16 * 1024, 64 * 1024, 256 * 1024, 1024 * 1024, BODY_LIMIT];
/** A size whose evaluation takes longer than this is not followed by larger ones. */
const GIVE_UP_MS = 10_000;
const NAMESPACES = [{ name: 'payments', labels: { 'portcullis.io/injection': 'enabled' }, annotations: {} }];
const kib = (n: number) => (n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : `${Math.round(n / 1024)} KiB`);
const ms = (n: number) => (n >= 100 ? `${n.toFixed(0)} ms` : `${n.toFixed(1)} ms`);

interface Point {
  bytes: number;
  n: number;
  ms: number;
  /** What the decision said: allowed, denied (with its violations), refused by a limit, failed. */
  answer: string;
}

/** Part 1: a decision as a worker makes it, on the built-in bundle, timed (the best of three, or one when slow). */
async function growth(): Promise<Record<string, Point[]>> {
  const engine = new PolicyEngine({ maxMemoryPages: defaults.policy.maxMemoryPages });
  await engine.activate(await loadBundle('builtin', await readArchive('builtin', await readFile(BUILTIN_BUNDLE), DEFAULT_LIMITS)));
  // The validating webhook checks a Pod's sidecar claim: the injector as a worker has it, with a trust bundle.
  const injector = new Injector(defaults.admission.injection, defaults.cluster, pino({ level: 'silent' }));
  await injector.start();
  injector.setTrustBundle(createCa('bench', 1).cert);
  const deps: DecideDeps = {
    snapshot: engine.current(),
    injector,
    namespace: (name) => NAMESPACES.find((n) => n.name === name) ?? null,
    cluster: defaults.cluster,
    entrypoints: { validate: defaults.admission.violationsEntrypoint, mutate: defaults.admission.patchesEntrypoint, patchesActive: defaults.admission.patchesActiveEntrypoint },
    dropManagedFields: true,
    maxJsonDepth: defaults.admission.maxJsonDepth,
    limits: defaults.admission.limits,
    masker: new Masker(defaults.audit.mask),
  };
  const out: Record<string, Point[]> = {};
  console.log(`\n1. evaluation time against size (a decision worker's work: parse, limits, policy, answer); the best of 3 runs below ${ms(1000)}`);
  for (const shape of SHAPES) {
    const points: Point[] = [];
    for (const bytes of SIZES) {
      const { n, review, size } = sized(shape, bytes);
      const body = Buffer.from(JSON.stringify(review));
      let best = Infinity;
      let answer = '';
      for (let i = 0; i < 3; i++) {
        const start = process.hrtime.bigint();
        const decision = decide('validate', new Uint8Array(body), { ...deps, snapshot: engine.current() });
        best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e6);
        answer = describe(decision);
        if (best > 1000) break;
      }
      points.push({ bytes: size, n, ms: best, answer });
      if (best > GIVE_UP_MS) break;
    }
    out[shape.name] = points;
    console.log(`  ${shape.name}: ${shape.grows}`);
    for (const [i, p] of points.entries()) {
      const prev = points[i - 1];
      const exponent = prev && !p.answer.startsWith('refused') && !prev.answer.startsWith('refused') ? Math.log(p.ms / prev.ms) / Math.log(p.bytes / prev.bytes) : undefined;
      console.log(`    ${kib(p.bytes).padStart(9)}  n=${String(p.n).padEnd(8)} ${ms(p.ms).padStart(9)}  ${exponent === undefined ? '      ' : `x^${exponent.toFixed(2)}`}  ${p.answer}`);
    }
  }
  return out;
}

function describe(decision: ReturnType<typeof decide>): string {
  if (decision.kind === 'malformed') return `refused ${decision.status?.code ?? 400}: ${decision.message.slice(0, 110)}`;
  if (decision.kind !== 'decided') return decision.kind;
  if (decision.outcome.decision === 'error') return `failed closed: ${(decision.outcome.error ?? '').slice(0, 100)}`;
  return `${decision.outcome.allowed ? 'allowed' : 'denied'}, ${decision.outcome.violations.length} violations`;
}

interface Blocking {
  shape: string;
  where: 'inline' | 'admissible' | 'largest';
  bytes: number;
  maxBlockMs: number;
  answer: string;
  seconds: number;
}

/** Parts 2 and 3: the running service, reviews from curl. */
async function service(): Promise<{ blocking: Blocking[]; rss: { baselineMiB: number; peakMiB: number; concurrent: number; bytes: number } }> {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-bench-limits-'));
  const facts = join(dir, 'facts.yaml');
  await writeFile(facts, JSON.stringify({ namespaces: NAMESPACES }));
  await writeFile(join(dir, 'token'), 'bench');
  const config = parseConfig({
    log: { level: 'error' },
    tls: { dir: join(dir, 'certs') },
    facts: { file: facts },
    admin: { host: '127.0.0.1', port: 0, tokenFile: join(dir, 'token') },
    authz: { enabled: false },
    admission: { host: '127.0.0.1', port: 0 },
    audit: { sinks: [{ type: 'file', path: join(dir, 'audit.log'), maxBytes: 512 * 1024 * 1024, maxFiles: 2 }] },
  });
  const svc = await startService({ config, log: pino({ level: 'error' }), stdout: pino.destination({ dest: 2, sync: false }), frontDoors: frontDoors(config) });
  const port = svc.listeners.find((l) => l.name === 'admission')?.port as number;
  const ca = join(dir, 'certs', 'ca.crt');
  const post = async (file: string) => {
    const { stdout } = await run('curl', ['-sS', '--cacert', ca, '-H', 'content-type: application/json', '--data-binary', `@${file}`, '-w', '\n%{http_code}', `https://localhost:${port}/validate`], { maxBuffer: 256 * 1024 * 1024 });
    const cut = stdout.lastIndexOf('\n');
    return { status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut) };
  };
  const answerOf = (status: number, body: string) => {
    if (status !== 200) return `HTTP ${status}`;
    const response = (JSON.parse(body) as { response: { allowed: boolean; status?: { code: number; message: string } } }).response;
    if (response.allowed) return 'allowed';
    const message = response.status?.message ?? '';
    return `${response.status?.code} ${message.includes('took longer') ? 'timed out' : message.slice(0, 90)}`;
  };
  try {
    while ((await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', ca, `https://localhost:${port}/readyz`])).stdout !== '200') await new Promise((r) => setTimeout(r, 100));
    const file = join(dir, 'review.json');
    const blocking: Blocking[] = [];
    const monitor = monitorEventLoopDelay({ resolution: 1 });
    monitor.enable();
    console.log(`\n2. the longest the event loop is held while one review is answered (HTTPS, default settings: ${defaults.admission.workers} worker, inline up to ${kib(INLINE.maxBytes)} / ${INLINE.maxMembers} members / ${INLINE.maxStringBytes}-byte strings, timeoutMs ${defaults.admission.timeoutMs})`);
    const measure = async (shape: string, where: Blocking['where'], body: Buffer) => {
      writeFileSync(file, body);
      await new Promise((r) => setTimeout(r, 50));
      monitor.reset();
      const started = Date.now();
      const r = await post(file);
      const b: Blocking = { shape, where, bytes: body.length, maxBlockMs: monitor.max / 1e6, answer: answerOf(r.status, r.body), seconds: (Date.now() - started) / 1000 };
      blocking.push(b);
      console.log(`  ${shape.padEnd(38)} ${where.padEnd(10)} ${kib(b.bytes).padStart(9)}  event loop held at most ${ms(b.maxBlockMs).padStart(8)}  answered in ${b.seconds.toFixed(2)} s: ${b.answer}`);
    };
    await measure('fixture Pod', 'inline', Buffer.from(JSON.stringify(pod())));
    for (const shape of SHAPES) {
      const inline = largest(shape, INLINE.maxBytes, cheapEnoughInline);
      if (inline) await measure(shape.name, 'inline', inline.body);
      const admissible = largest(shape, BODY_LIMIT, withinLimits);
      if (admissible) await measure(shape.name, 'admissible', admissible.body);
      const biggest = largest(shape, BODY_LIMIT, () => true);
      if (biggest && biggest.body.length !== admissible?.body.length) await measure(shape.name, 'largest', biggest.body);
    }
    monitor.disable();

    // 3. Memory: the largest reviews at once, as many as admission.maxInFlightBytes lets in.
    const heavy = ['pod-good-containers', 'pod-env', 'pod-annotation-bytes', 'pod-update-containers'];
    const files: string[] = [];
    let bytes = 0;
    for (const [i, name] of heavy.entries()) {
      const shape = SHAPES.find((s) => s.name === name) as Shape;
      const { review } = sized(shape, BODY_LIMIT);
      const f = join(dir, `heavy-${i}.json`);
      const text = JSON.stringify(review);
      writeFileSync(f, text);
      files.push(f);
      bytes = Math.max(bytes, text.length);
    }
    const concurrent = Math.floor(config.admission.maxInFlightBytes / bytes);
    const status = () => readFileSync('/proc/self/status', 'utf8');
    const rssOf = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status())?.[1] ?? 0) / 1024;
    // Clear the peak (VmHWM) so it covers this part only.
    writeFileSync('/proc/self/clear_refs', '5');
    const baseline = rssOf('VmRSS');
    const answers = await Promise.all(Array.from({ length: concurrent }, (_, i) => post(files[i % files.length] as string)));
    const peak = rssOf('VmHWM');
    console.log(`\n3. peak resident memory with ${concurrent} of the largest reviews (${kib(bytes)}) at once: ${peak.toFixed(0)} MiB (${baseline.toFixed(0)} MiB before); answers: ${[...new Set(answers.map((a) => answerOf(a.status, a.body)))].join(', ')}`);
    return { blocking, rss: { baselineMiB: Math.round(baseline), peakMiB: Math.round(peak), concurrent, bytes } };
  } finally {
    await svc.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  console.log(`limits benchmark, Node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} (${(await run('nproc')).stdout.trim()} cores)`);
  // The service first, in a fresh process: part 1's policy memory would count in its resident memory.
  const { blocking, rss } = await service();
  const points = await growth();
  const worst = blocking.reduce((a, b) => (b.maxBlockMs > a.maxBlockMs ? b : a));
  console.log(`\nworst: the event loop was held at most ${ms(worst.maxBlockMs)} (${worst.shape}, ${worst.where}, ${kib(worst.bytes)}); load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const superLinear = Object.entries(points).flatMap(([name, ps]) =>
    ps.slice(1).flatMap((p, i) => {
      const prev = ps[i] as Point;
      if (p.answer.startsWith('refused') || prev.answer.startsWith('refused') || p.ms < 20) return [];
      const e = Math.log(p.ms / prev.ms) / Math.log(p.bytes / prev.bytes);
      return e > 1.3 ? [`${name} ${kib(prev.bytes)}→${kib(p.bytes)} x^${e.toFixed(2)}`] : [];
    }),
  );
  console.log(superLinear.length ? `growth above x^1.3 between admissible sizes: ${superLinear.join('; ')}` : 'no growth above x^1.3 between admissible sizes');
  console.log(JSON.stringify({ worstBlockMs: Number(worst.maxBlockMs.toFixed(2)), worst: `${worst.shape} ${worst.where}`, blocking, rss, growth: points }));
}

await main();
