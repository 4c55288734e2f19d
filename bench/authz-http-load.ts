// HTTP-mode load for bench/authz.ts, in its own process so its CPU is not the server's. Prints one JSON line.
//   saturate: autocannon, closed loop over keep-alive connections, as fast as the server answers.
//   paced:    an open loop starting one request every 1/rate s; latency counts from when a request was due,
//             so a server falling behind shows it (autocannon's rate option sends per-second bursts).
import { Agent, request } from 'node:http';
import autocannon from 'autocannon';

interface Job {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
  connections: number;
  durationSeconds: number;
  rate?: number;
}

interface Result {
  rps: number;
  requests: number;
  non2xx: number;
  errors: number;
  p50: number;
  p99: number;
  max: number;
}

const job = JSON.parse(process.argv[2] ?? '{}') as Job;

function summary(samples: number[], seconds: number, non2xx: number, errors: number): Result {
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(samples.length * q))] ?? NaN;
  return { rps: samples.length / seconds, requests: samples.length, non2xx, errors, p50: at(0.5), p99: at(0.99), max: samples.at(-1) ?? NaN };
}

function saturate(): Promise<Result> {
  const samples: number[] = [];
  let non2xx = 0;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      { url: job.url, method: job.method as 'POST', headers: job.headers, body: job.body, connections: job.connections, pipelining: 1, duration: job.durationSeconds },
      (err, result) => (err ? reject(err) : resolve(summary(samples, job.durationSeconds, non2xx, result.errors + result.timeouts))),
    );
    instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
      if (status < 200 || status > 299) non2xx++;
      samples.push(ms);
    });
  });
}

async function paced(rate: number): Promise<Result> {
  const url = new URL(job.url);
  const agent = new Agent({ keepAlive: true, maxSockets: job.connections });
  const body = Buffer.from(job.body);
  const headers = { ...job.headers, 'content-length': String(body.length) };
  const samples: number[] = [];
  let non2xx = 0;
  let errors = 0;
  const send = (due: number) =>
    new Promise<void>((resolve) => {
      const req = request({ host: url.hostname, port: url.port, path: url.pathname + url.search, method: job.method, agent, headers }, (res) => {
        if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) > 299) non2xx++;
        res.resume();
        res.on('end', () => {
          samples.push(performance.now() - due);
          resolve();
        });
      });
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(body);
    });
  await Promise.all(Array.from({ length: job.connections }, () => send(performance.now())));
  samples.length = 0;
  const total = Math.round(rate * job.durationSeconds);
  const interval = 1000 / rate;
  const inflight: Array<Promise<void>> = [];
  const start = performance.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + sent * interval <= now) inflight.push(send(start + sent++ * interval));
      if (sent >= total) return resolve();
      setTimeout(tick, Math.max(0, start + sent * interval - performance.now()));
    };
    tick();
  });
  await Promise.all(inflight);
  agent.destroy();
  return summary(samples, job.durationSeconds, non2xx, errors);
}

console.log(JSON.stringify(job.rate ? await paced(job.rate) : await saturate()));
