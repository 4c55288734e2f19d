// Closed-loop maximum load from wrk (C, Debian package): on two cores the load generator's own CPU is taken
// from the server, and wrk spends about 30 µs of CPU per request where vegeta spends 120, so the maximum
// throughput of bench:admission is measured with it. vegeta keeps the fixed-rate runs (wrk has no open loop).
import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { LoadJob, LoadResult } from './vegeta.js';

const exec = promisify(execFile);

// wrk's Lua API: the body and headers of every request, and the figures as one JSON line when it ends.
const SCRIPT = `
local f = assert(io.open(os.getenv("WRK_BODY"), "rb"))
wrk.method = os.getenv("WRK_METHOD")
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
done = function(s, latency)
  local e = s.errors
  io.write(string.format('{"requests":%d,"duration_us":%d,"non2xx":%d,"errors":%d,"p50":%f,"p99":%f,"p999":%f,"max":%f}\\n',
    s.requests, s.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency:percentile(99.9) / 1000, latency.max / 1000))
end
`;

/** Installs wrk with apt-get when it is missing (root, or sudo without a password). */
export function ensureWrk(): void {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return;
  } catch (err) {
    // wrk --version exits 1 after printing its version.
    if ((err as { status?: number }).status === 1) return;
  }
  const run = (args: string[]) => {
    const [command, ...rest] = process.getuid?.() === 0 ? args : ['sudo', '-n', ...args];
    execFileSync(command as string, rest, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  };
  run(['apt-get', 'update', '-qq']);
  run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', 'wrk']);
}

export async function wrk(job: Omit<LoadJob, 'rate' | 'ca' | 'headers'>): Promise<LoadResult> {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-wrk-'));
  try {
    await writeFile(join(dir, 'body'), job.body ?? '');
    await writeFile(join(dir, 'script.lua'), SCRIPT);
    const env = { ...process.env, WRK_BODY: join(dir, 'body'), WRK_METHOD: job.method ?? 'POST' };
    const { stdout } = await exec('wrk', ['-t1', `-c${job.workers}`, `-d${job.seconds}s`, '-s', join(dir, 'script.lua'), job.url], { env });
    job.onDone?.();
    const line = stdout.split('\n').find((l) => l.startsWith('{"requests"'));
    if (!line) throw new Error(`wrk printed no figures:\n${stdout}`);
    const r = JSON.parse(line) as { requests: number; duration_us: number; non2xx: number; errors: number; p50: number; p99: number; p999: number; max: number };
    return { rps: r.requests / (r.duration_us / 1e6), requests: r.requests, non2xx: r.non2xx, errors: r.errors, p50: r.p50, p99: r.p99, p999: r.p999, max: r.max };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
