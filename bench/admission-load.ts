// The load generator of bench/admission.ts, in its own process so that its CPU is not the server's:
// autocannon over HTTPS keep-alive, with every response time kept at microsecond resolution
// (autocannon's own histogram counts whole milliseconds). Prints one JSON line.
import autocannon from 'autocannon';

interface Job {
  url: string;
  ca: string;
  body: string;
  connections: number;
  durationSeconds: number;
  /** Offered rate in requests per second over all connections; none means as fast as the server answers. */
  rate?: number;
}

const job = JSON.parse(process.argv[2] ?? '{}') as Job;
const samples: number[] = [];
let non2xx = 0;

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
    ...(job.rate ? { overallRate: job.rate } : {}),
  },
  (err, result) => {
    if (err) {
      console.error(err);
      process.exit(1);
    }
    samples.sort((a, b) => a - b);
    const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(samples.length * q))] ?? NaN;
    console.log(
      JSON.stringify({
        rps: samples.length / job.durationSeconds,
        requests: samples.length,
        non2xx,
        errors: result.errors + result.timeouts,
        p50: at(0.5),
        p99: at(0.99),
        p999: at(0.999),
        max: samples.at(-1) ?? NaN,
      }),
    );
  },
);
instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
  if (status < 200 || status > 299) non2xx++;
  samples.push(ms);
});
