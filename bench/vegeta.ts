// HTTP(S) load from vegeta (Go, built by scripts/tools.sh): a separate process with precise constant-rate
// pacing (open loop, latency measured from when each request was due) and a closed-loop maximum mode.
// Shared by bench:admission and the HTTP half of bench:authz.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { ROOT } from '../test/helpers/paths.js';

const VEGETA = join(ROOT, '.tools', 'bin', 'vegeta');
const exec = promisify(execFile);

export interface LoadJob {
  url: string;
  method?: string;
  body?: string;
  headers?: Record<string, string>;
  /** PEM of the CA that signed the server's certificate (HTTPS). */
  ca?: string;
  /** Offered requests per second; absent means as fast as `workers` concurrent requests are answered. */
  rate?: number;
  workers: number;
  seconds: number;
  /**
   * Seconds of load before the measured `seconds`, left out of every figure: vegeta opens its connections
   * while the rate ramps up, and those TLS handshakes are not the steady state being measured.
   */
  warmup?: number;
  /** Called as soon as the load stops, before its results are read (to stop a CPU measurement). */
  onDone?: () => void;
}

export interface LoadResult {
  rps: number;
  requests: number;
  /** Answered during the warm-up, not in the figures (CPU accounting needs them). */
  warmupRequests?: number;
  non2xx: number;
  errors: number;
  /** Latencies in milliseconds. */
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

export async function vegeta(job: LoadJob): Promise<LoadResult> {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-vegeta-'));
  try {
    const target = [`${job.method ?? 'POST'} ${job.url}`, ...Object.entries({ 'Content-Type': 'application/json', ...job.headers }).map(([k, v]) => `${k}: ${v}`)];
    if (job.body !== undefined) {
      await writeFile(join(dir, 'body'), job.body);
      target.push(`@${join(dir, 'body')}`);
    }
    await writeFile(join(dir, 'targets'), `${target.join('\n')}\n`);
    const args = ['attack', `-targets=${join(dir, 'targets')}`, `-duration=${job.seconds + (job.warmup ?? 0)}s`, '-keepalive=true', `-workers=${job.workers}`];
    if (job.rate) args.push(`-rate=${job.rate}/s`, `-max-workers=${job.workers * 8}`);
    else args.push('-rate=0', `-max-workers=${job.workers}`);
    if (job.ca) {
      await writeFile(join(dir, 'ca.pem'), job.ca);
      args.push(`-root-certs=${join(dir, 'ca.pem')}`);
    }
    // Results go to a file and are read after the run, so reading them costs the measured server nothing.
    const results = join(dir, 'results.bin');
    args.push(`-output=${results}`);
    await exec(VEGETA, args);
    job.onDone?.();
    const encoded = spawn(VEGETA, ['encode', '--to', 'json', results], { stdio: ['ignore', 'pipe', 'inherit'] });
    const latencies: number[] = [];
    let non2xx = 0;
    let errors = 0;
    let first = Infinity;
    let last = 0;
    let measuredFrom: number | undefined;
    let warmupRequests = 0;
    for await (const line of createInterface({ input: encoded.stdout })) {
      if (!line) continue;
      const r = JSON.parse(line) as { code: number; latency: number; timestamp: string; error: string };
      const start = Date.parse(r.timestamp);
      // Results come in the order requests were sent: the first one dates the warm-up.
      measuredFrom ??= start + (job.warmup ?? 0) * 1000;
      if (start < measuredFrom) {
        warmupRequests++;
        continue;
      }
      first = Math.min(first, start);
      last = Math.max(last, start + r.latency / 1e6);
      if (r.error) errors++;
      else if (r.code < 200 || r.code > 299) non2xx++;
      latencies.push(r.latency / 1e6);
    }
    latencies.sort((a, b) => a - b);
    const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))] ?? NaN;
    // Achieved throughput over the span from the first request to the last answer (a slow server stretches it).
    const seconds = Math.max(job.seconds, (last - first) / 1000);
    return { rps: latencies.length / seconds, requests: latencies.length, warmupRequests, non2xx, errors, p50: at(0.5), p99: at(0.99), p999: at(0.999), max: latencies.at(-1) ?? NaN };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
