// npm run bench:memory — the resident memory of the service as its own process (`node dist/cli.js serve` with
// the Node flags of `npm start`, default settings), read from /proc/<pid>/status: idle, then while the
// largest admissible reviews (test/helpers/large-reviews.ts, each within admission.limits, so judged rather
// than refused) arrive 1, 10 and 20 at once from curl processes, then the largest bodies the body limit lets
// through (refused by the limits), 20 at once. The peak of each round is VmHWM, reset before it (clear_refs).
// These figures choose the chart's memory request and limit (charts/portcullis/values.yaml, docs/limits.md).
// The last line is one JSON object with the figures.
import { execFile, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseConfig } from '../src/server/config.js';
import { largest, pod, SHAPES, withinLimits, type Shape } from '../test/helpers/large-reviews.js';
import { ROOT } from '../test/helpers/paths.js';

const run = promisify(execFile);
const defaults = parseConfig({});
const BODY_LIMIT = defaults.admission.maxBodyBytes;
/** The shapes that hold the most memory per byte: long strings echoed in many messages, many violations, UPDATE's two objects. */
const HEAVY = ['pod-long-name', 'pod-bad-containers', 'request-authentication-rules', 'pod-update-wide-objects', 'pod-env', 'pod-annotation-bytes'];
const ROUNDS = [1, 10, 20];
const mib = (kb: number) => Math.round(kb / 1024);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The `node` flags `npm start` runs the service with, so the measurement is of that process. */
function startFlags(): string[] {
  const start = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.start ?? '';
  const command = start.slice(start.indexOf('node ') + 5).split(' ');
  return command.slice(0, command.indexOf('dist/cli.js'));
}

const uptime = async () => (await run('uptime')).stdout.trim();

async function main(): Promise<void> {
  console.log(`memory benchmark, Node ${process.version}; ${await uptime()}`);
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-bench-memory-'));
  const [admission, admin, grpc, http] = [await freePort(), await freePort(), await freePort(), await freePort()];
  await writeFile(join(dir, 'facts.yaml'), JSON.stringify({ namespaces: [{ name: 'payments', labels: { 'portcullis.io/injection': 'enabled' }, annotations: {} }] }));
  await writeFile(join(dir, 'token'), 'bench');
  const configFile = join(dir, 'config.yaml');
  await writeFile(
    configFile,
    JSON.stringify({
      log: { level: 'warn' },
      tls: { dir: join(dir, 'certs') },
      facts: { file: join(dir, 'facts.yaml') },
      admin: { host: '127.0.0.1', port: admin, tokenFile: join(dir, 'token') },
      admission: { host: '127.0.0.1', port: admission },
      authz: { grpc: { host: '127.0.0.1', port: grpc }, http: { host: '127.0.0.1', port: http } },
      audit: { sinks: [{ type: 'file', path: join(dir, 'audit.log'), maxBytes: 512 * 1024 * 1024, maxFiles: 2 }] },
    }),
  );
  const flags = startFlags();
  const child = spawn(process.execPath, [...flags, join(ROOT, 'dist', 'cli.js'), 'serve', '--config', configFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  // The service's log (warn and above): what went wrong, if anything, is printed with the figures.
  const problems = new Map<string, number>();
  child.stdout.setEncoding('utf8');
  let partial = '';
  child.stdout.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      let entry: { msg?: string; err?: unknown };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        entry = { msg: line };
      }
      const key = `${entry.msg}: ${JSON.stringify(entry.err ?? '').slice(0, 160)}`;
      problems.set(key, (problems.get(key) ?? 0) + 1);
    }
  });
  const pid = child.pid as number;
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  const ca = join(dir, 'certs', 'ca.crt');
  // A body past admission.maxInFlightBytes is answered 429 and its connection closed while curl still sends.
  const post = async (file: string) => {
    const { stdout } = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', ca, '-H', 'content-type: application/json', '--data-binary', `@${file}`, `https://localhost:${admission}/validate`], {
      maxBuffer: 64 * 1024 * 1024,
    }).catch((err: { code?: number; stdout?: string }) => ({ stdout: `${err.stdout ?? ''} (curl exit ${err.code})` }));
    return stdout;
  };
  try {
    console.log(`service: node ${flags.join(' ')} dist/cli.js serve (pid ${pid}), default settings: admission.workers ${defaults.admission.workers}, maxInFlightBytes ${defaults.admission.maxInFlightBytes / 1024 / 1024} MiB, maxBodyBytes ${BODY_LIMIT / 1024 / 1024} MiB, workerRecycleBytes ${defaults.admission.workerRecycleBytes / 1024 / 1024} MiB`);
    for (;;) {
      const ready = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', ca, `https://localhost:${admission}/readyz`]).catch(() => ({ stdout: '' }));
      if (ready.stdout === '200') break;
      if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const fixture = join(dir, 'fixture.json');
    writeFileSync(fixture, JSON.stringify(pod()));
    await post(fixture);
    await new Promise((r) => setTimeout(r, 2000));
    const idle = { rssMiB: mib(kb('VmRSS')), peakMiB: mib(kb('VmHWM')) };
    console.log(`idle (ready, one review answered): ${idle.rssMiB} MiB resident, ${idle.peakMiB} MiB peak since start`);

    const files: Array<{ shape: string; file: string; bytes: number }> = [];
    for (const name of HEAVY) {
      const shape = SHAPES.find((s) => s.name === name) as Shape;
      const review = largest(shape, BODY_LIMIT, withinLimits(defaults.admission.limits));
      if (!review) continue;
      const file = join(dir, `${name}.json`);
      writeFileSync(file, review.body);
      files.push({ shape: name, file, bytes: review.body.length });
      console.log(`  largest admissible ${name}: ${(review.body.length / 1024).toFixed(0)} KiB (n=${review.n})`);
    }
    const oversized: typeof files = [];
    for (const name of ['pod-good-containers', 'pod-env']) {
      const shape = SHAPES.find((s) => s.name === name) as Shape;
      const review = largest(shape, BODY_LIMIT, () => true) as { body: Buffer };
      const file = join(dir, `${name}-largest.json`);
      writeFileSync(file, review.body);
      oversized.push({ shape: name, file, bytes: review.body.length });
    }

    const rounds: Array<{ what: string; concurrent: number; peakMiB: number; afterMiB: number; answers: Record<string, number>; seconds: number }> = [];
    const round = async (what: string, set: typeof files, concurrent: number) => {
      writeFileSync(`/proc/${pid}/clear_refs`, '5');
      const started = Date.now();
      const codes = await Promise.all(Array.from({ length: concurrent }, (_, i) => post((set[i % set.length] as { file: string }).file)));
      const seconds = (Date.now() - started) / 1000;
      const peakMiB = mib(kb('VmHWM'));
      await new Promise((r) => setTimeout(r, 3000));
      const answers: Record<string, number> = {};
      for (const c of codes) answers[`HTTP ${c}`] = (answers[`HTTP ${c}`] ?? 0) + 1;
      const r = { what, concurrent, peakMiB, afterMiB: mib(kb('VmRSS')), answers, seconds };
      rounds.push(r);
      console.log(`${what}, ${concurrent} at once: peak ${peakMiB} MiB resident, ${r.afterMiB} MiB 3 s after; ${seconds.toFixed(1)} s; ${JSON.stringify(answers)}`);
    };
    for (const n of ROUNDS) await round('largest admissible reviews', files, n);
    await round(`largest bodies within the body limit (refused by admission.limits)`, oversized, 20);
    const peak = Math.max(...rounds.map((r) => r.peakMiB));
    for (const [what, n] of problems) console.log(`service log: ${n} × ${what}`);
    console.log(`highest peak: ${peak} MiB (chart limit 512Mi); ${await uptime()}`);
    console.log(JSON.stringify({ idle, rounds, peakMiB: peak, reviews: files.map(({ shape, bytes }) => ({ shape, bytes })) }));
  } finally {
    child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
