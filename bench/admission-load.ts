// The load generator of bench/admission.ts, in its own process so that its CPU is not the server's.
// Prints one JSON line with requests/s and latency percentiles at microsecond resolution.
//   saturate: autocannon, closed loop over keep-alive connections, as fast as the server answers.
//   paced:    an open loop that starts one request every 1/rate seconds on a pool of keep-alive
//             connections. autocannon's own rate limit is a per-second quota (requests go back to back
//             until the quota is used, then nothing until the next second), which measures bursts, not a
//             steady 1,000 req/s. Latency is counted from when a request was due, not from when a free
//             connection sent it, so a server that falls behind shows it (no coordinated omission).
import { Agent, request } from 'node:https';
import autocannon from 'autocannon';

interface Job {
  url: string;
  ca: string;
  body: string;
  connections: number;
  durationSeconds: number;
  /** Offered rate in requests per second (paced); none means saturate. */
  rate?: number;
}

interface Result {
  rps: number;
  requests: number;
  non2xx: number;
  errors: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

const job = JSON.parse(process.argv[2] ?? '{}') as Job;

function summary(samples: number[], seconds: number, non2xx: number, errors: number): Result {
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(samples.length * q))] ?? NaN;
  return { rps: samples.length / seconds, requests: samples.length, non2xx, errors, p50: at(0.5), p99: at(0.99), p999: at(0.999), max: samples.at(-1) ?? NaN };
}

function saturate(): Promise<Result> {
  const samples: number[] = [];
  let non2xx = 0;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: job.url,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: job.body,
        connections: job.connections,
        pipelining: 1,
        duration: job.durationSeconds,
        servername: 'localhost',
        tlsOptions: { ca: job.ca },
      },
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
  const agent = new Agent({ keepAlive: true, maxSockets: job.connections, ca: job.ca, servername: 'localhost' });
  const body = Buffer.from(job.body);
  const samples: number[] = [];
  let non2xx = 0;
  let errors = 0;
  const send = (due: number) =>
    new Promise<void>((resolve) => {
      const req = request(
        { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } },
        (res) => {
          if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) > 299) non2xx++;
          res.resume();
          res.on('end', () => {
            samples.push(performance.now() - due);
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(body);
    });

  // Open the connections before the clock starts.
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
  // Achieved throughput: a server that falls behind takes longer than the offered schedule to answer it all.
  const elapsed = (performance.now() - start) / 1000;
  agent.destroy();
  return summary(samples, Math.max(elapsed, job.durationSeconds), non2xx, errors);
}

const result = job.rate ? await paced(job.rate) : await saturate();
console.log(JSON.stringify(result));
