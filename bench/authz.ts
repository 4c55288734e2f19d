// npm run bench:authz — ext_authz load from separate processes against Portcullis and, in the same run,
// against the real opa-envoy-plugin (built from its source, test/authz/reference.ts), both running the same
// policy written as its users write them (test/fixtures/opa-envoy/body.rego: RS256 tokens verified against a
// JWKS with io.jwt.verify_rs256 and io.jwt.decode_verify, the parsed body, query and path, sprintf, a result
// object) and both logging every decision to a file: Portcullis its audit trail (masked, hash-chained), the
// plugin its decision log (decision_logs.console, one JSON event per Check, with its own log). gRPC load: ghz
// with Envoy's published protos, the fixture CheckRequest carrying a real signed JWT, also against a no-op
// grpc-js server (the floor of machine and harness). HTTP load: vegeta (bench/vegeta.ts). Each at
// saturation and at a fixed 1,000 req/s, as the median of alternated runs (bench/median.ts), with the
// machine's load printed before each run. The last line printed is one JSON object with the figures. The
// server runs with the garbage collector settings the chart deploys (--max-semi-space-size=32
// --initial-old-space-size=128, docs/operations.md).
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { EXTERNAL_AUTH_PROTO, envoyProtoIncludes } from '../src/authz/grpc/protos.js';
import { ROOT } from '../test/helpers/paths.js';
import { startAuthzBench } from './authz-service.js';
import { buildReference, startReference } from '../test/authz/reference.js';
import { authzClient, fromProtoJson } from '../test/authz/grpc-client.js';
import { alternate, median, RUNS } from './median.js';
import { vegeta } from './vegeta.js';

const run = promisify(execFile);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const TOOLS = join(ROOT, '.tools', 'bin');

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  ok: number;
  errors: number;
}

await run('bash', [join(ROOT, 'scripts', 'tools.sh'), 'ghz']);
await run('bash', [join(ROOT, 'scripts', 'tools.sh'), 'vegeta']);
await buildReference();
const { dir, policyFile, token, checkRequest, checkFile, service, grpcPort, httpPort } = await startAuthzBench('bench-authz', { http: true });
const reference = await startReference([policyFile], 'envoy/authz/result', { decisionLogs: true, logFile: join(dir, 'reference.log') });
const opaPort = reference.port;

async function ghz(port: number, options: { seconds: number; concurrency: number; rps?: number }): Promise<Figures> {
  if (options.seconds >= SECONDS) console.log(`  ${(await run('uptime')).stdout.trim()} (before ${options.rps ? `${options.rps} req/s` : 'saturation'} on ${port === opaPort ? 'opa-envoy-plugin' : port === grpcPort ? 'Portcullis' : 'the floor'})`);
  const args = [
    '--insecure',
    '--proto', EXTERNAL_AUTH_PROTO,
    '--import-paths', envoyProtoIncludes().join(','),
    '--call', 'envoy.service.auth.v3.Authorization/Check',
    '--data-file', checkFile,
    '-z', `${options.seconds}s`,
    '-c', String(options.concurrency),
    '--connections', '2',
    ...(options.rps ? ['--rps', String(options.rps)] : []),
    '--format', 'json',
    `127.0.0.1:${port}`,
  ];
  const { stdout } = await run(join(TOOLS, 'ghz'), args, { maxBuffer: 256 * 1024 * 1024 });
  const report = JSON.parse(stdout) as { rps: number; count: number; latencyDistribution: Array<{ percentage: number; latency: number }>; statusCodeDistribution: Record<string, number>; errorDistribution?: Record<string, number> };
  const at = (p: number) => (report.latencyDistribution.find((d) => d.percentage === p)?.latency ?? NaN) / 1e6;
  return { rps: report.rps, p50: at(50), p99: at(99), ok: report.statusCodeDistribution.OK ?? 0, errors: Object.values(report.errorDistribution ?? {}).reduce((a, b) => a + b, 0) };
}

async function http(options: { seconds: number; connections: number; rate?: number }): Promise<Figures> {
  if (options.seconds >= SECONDS) console.log(`  ${(await run('uptime')).stdout.trim()} (before HTTP ${options.rate ? `${options.rate} req/s` : 'saturation'})`);
  const r = await vegeta({
    // Envoy's HTTP mode: the original method, path, headers and body. No peer identity reaches this mode,
    // so the request is allowed by the policy's role query rule (the gRPC request by its principal).
    url: `http://127.0.0.1:${httpPort}/api/v1/charges?currency=EUR&dry_run=false&role=admin`,
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'X-Forwarded-For': '203.0.113.77' },
    body: '{"amount": 1250, "currency": "EUR", "customer": "c_8812"}',
    workers: options.connections,
    seconds: options.seconds,
    ...(options.rate ? { rate: options.rate } : {}),
  });
  return { rps: r.rps, p50: r.p50, p99: r.p99, ok: r.requests - r.non2xx - r.errors, errors: r.errors };
}

// The floor of this machine and harness: a grpc-js server on the same protos that answers every Check OK
// at once (request decoded, no policy, no audit).
const floor = new grpc.Server({ 'grpc.enable_channelz': 0 });
floor.addService((protoLoader.loadSync(EXTERNAL_AUTH_PROTO, { includeDirs: envoyProtoIncludes(), keepCase: true })['envoy.service.auth.v3.Authorization'] as grpc.ServiceDefinition), {
  Check: (_call: unknown, callback: grpc.sendUnaryData<unknown>) => callback(null, { status: { code: 0 } }),
});
const floorPort = await new Promise<number>((resolve, reject) => floor.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));

const MAX_CONCURRENCY = 32;
const show = (name: string, runs: Figures[], by: 'rps' | 'p99') => {
  const m = median(runs, (f) => f[by]);
  console.log(`${name.padEnd(44)} ${m.rps.toFixed(0).padStart(7)} req/s   p50 ${m.p50.toFixed(3)} ms   p99 ${m.p99.toFixed(3)} ms   (${m.ok} answered, ${m.errors} unfinished or failed; each run: ${runs.map((f) => (by === 'rps' ? f.rps.toFixed(0) : f.p99.toFixed(2))).join(', ')}${by === 'rps' ? ' req/s' : ' ms'})`);
  return m;
};

try {
  console.log(`machine: ${(await import('node:os')).cpus().length} cores, load average ${((await import('node:os')).loadavg()[0] ?? 0).toFixed(2)}; median of ${RUNS} alternated runs of ${SECONDS} s; Portcullis in this process (node ${process.execArgv.filter((a) => a.includes('-space-size')).join(' ')}), load from ghz / vegeta`);
  // Both must give the same answer to the request measured, or the comparison is not of the same work.
  const request = fromProtoJson(JSON.parse(checkRequest));
  const answers = await Promise.all([grpcPort, opaPort].map(async (p) => {
    const client = authzClient(p);
    try {
      const r = await client.check(request);
      return JSON.stringify({ status: r.status.code, denied: r.denied_response?.status.code ?? null, ok: r.ok_response ? r.ok_response.headers.map((h) => `${h.header.key}: ${h.header.value}`).sort() : null });
    } finally {
      client.close();
    }
  }));
  console.log(`the request measured: Portcullis answers ${answers[0]}, opa-envoy-plugin ${answers[1]}${answers[0] === answers[1] ? ' (the same)' : ' (DIFFERENT)'}`);
  // Warm every server (JIT, token cache, connection set-up) before measuring.
  for (const port of [grpcPort, opaPort, floorPort]) await ghz(port, { seconds: 3, concurrency: 16 });
  await http({ seconds: 3, connections: 16 });

  const max = await alternate({ portcullis: () => ghz(grpcPort, { seconds: SECONDS, concurrency: MAX_CONCURRENCY }), opa: () => ghz(opaPort, { seconds: SECONDS, concurrency: MAX_CONCURRENCY }), floor: () => ghz(floorPort, { seconds: SECONDS, concurrency: MAX_CONCURRENCY }) });
  const fixed = await alternate({ portcullis: () => ghz(grpcPort, { seconds: SECONDS, concurrency: 16, rps: 1000 }), opa: () => ghz(opaPort, { seconds: SECONDS, concurrency: 16, rps: 1000 }), floor: () => ghz(floorPort, { seconds: SECONDS, concurrency: 16, rps: 1000 }) });
  const httpRuns = await alternate({ max: () => http({ seconds: SECONDS, connections: MAX_CONCURRENCY }), fixed: () => http({ seconds: SECONDS, connections: 16, rate: 1000 }) });
  const grpcMax = show('gRPC Portcullis, saturation', max.portcullis ?? [], 'rps');
  const opaMax = show('gRPC opa-envoy-plugin, saturation', max.opa ?? [], 'rps');
  const floorMax = show('gRPC no-op grpc-js (floor), saturation', max.floor ?? [], 'rps');
  const grpc1000 = show('gRPC Portcullis, 1,000 req/s', fixed.portcullis ?? [], 'p99');
  const opa1000 = show('gRPC opa-envoy-plugin, 1,000 req/s', fixed.opa ?? [], 'p99');
  const floor1000 = show('gRPC no-op grpc-js (floor), 1,000 req/s', fixed.floor ?? [], 'p99');
  const httpMax = show('HTTP Portcullis, saturation', httpRuns.max ?? [], 'rps');
  const http1000 = show('HTTP Portcullis, 1,000 req/s', httpRuns.fixed ?? [], 'p99');
  const ratios = (max.portcullis ?? []).map((p, i) => p.rps / (max.opa?.[i]?.rps ?? NaN));
  const p99Ratios = (fixed.portcullis ?? []).map((p, i) => p.p99 / (fixed.opa?.[i]?.p99 ?? NaN));
  console.log(`throughput ratio Portcullis / opa-envoy-plugin (gRPC, saturation): ${(grpcMax.rps / opaMax.rps).toFixed(2)} (run by run: ${ratios.map((r) => r.toFixed(2)).join(', ')})`);
  console.log(`p99 ratio Portcullis / opa-envoy-plugin (gRPC, 1,000 req/s): ${(grpc1000.p99 / opa1000.p99).toFixed(2)} (run by run: ${p99Ratios.map((r) => r.toFixed(2)).join(', ')})`);

  const r = (n: number, d = 3) => Number(n.toFixed(d));
  console.log(
    JSON.stringify({
      grpc: { rps_max: r(grpcMax.rps, 0), p50_ms_max: r(grpcMax.p50), p99_ms_max: r(grpcMax.p99), p50_ms_at_1000: r(grpc1000.p50), p99_ms_at_1000: r(grpc1000.p99), opa_envoy_plugin_rps_max: r(opaMax.rps, 0), opa_envoy_plugin_p99_ms_max: r(opaMax.p99), opa_envoy_plugin_p50_ms_at_1000: r(opa1000.p50), opa_envoy_plugin_p99_ms_at_1000: r(opa1000.p99), ratio_rps: r(grpcMax.rps / opaMax.rps, 2), ratio_p99_at_1000: r(grpc1000.p99 / opa1000.p99, 2), floor_rps_max: r(floorMax.rps, 0), floor_p99_ms_at_1000: r(floor1000.p99) },
      http: { rps_max: r(httpMax.rps, 0), p50_ms_max: r(httpMax.p50), p99_ms_max: r(httpMax.p99), p50_ms_at_1000: r(http1000.p50), p99_ms_at_1000: r(http1000.p99) },
    }),
  );
} finally {
  await reference.close();
  floor.forceShutdown();
  await service.stop();
  await rm(dir, { recursive: true, force: true });
}
