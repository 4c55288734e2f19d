// npm run bench:authz:profile — where the CPU of a Check goes: Portcullis as bench:authz runs it (same
// policy, same request, audit to a file), loaded at saturation by ghz for BENCH_SECONDS, with V8's CPU
// profiler on (as node --cpu-prof records it; the .cpuprofile is written beside the report). Prints the
// self time by part: grpc-js and HTTP/2, protobuf decoding and encoding, building the input, the JWT facts
// (jose), the policy's WebAssembly and its host builtins, the audit log, garbage collection, the rest.
// Then the same for the real opa-envoy-plugin (same policy, decision log to a file, as bench:authz runs it):
// Go's CPU profiler through its --pprof endpoint, read with `go tool pprof`, by the outermost function of
// each part (Go cuts the deepest stacks of a policy's evaluation, so the parts overlap a little).
import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { EXTERNAL_AUTH_PROTO, envoyProtoIncludes } from '../src/authz/grpc/protos.js';
import { ROOT } from '../test/helpers/paths.js';
import { startReference } from '../test/authz/reference.js';
import { startAuthzBench } from './authz-service.js';

const run = promisify(execFile);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
await run('bash', [join(ROOT, 'scripts', 'tools.sh'), 'ghz']);
const { dir, policyFile, checkFile, service, grpcPort: port } = await startAuthzBench('profile-authz', { http: false });

const ghz = (seconds: number, target = port) =>
  run(join(ROOT, '.tools', 'bin', 'ghz'), ['--insecure', '--proto', EXTERNAL_AUTH_PROTO, '--import-paths', envoyProtoIncludes().join(','), '--call', 'envoy.service.auth.v3.Authorization/Check', '--data-file', checkFile, '-z', `${seconds}s`, '-c', '32', '--connections', '2', '--format', 'json', `127.0.0.1:${target}`], { maxBuffer: 256 * 1024 * 1024 });

await ghz(3);
console.log(`${(await run('uptime')).stdout.trim()} (before profiling Portcullis)`);
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 100 });
await session.post('Profiler.start');
const report = JSON.parse((await ghz(SECONDS)).stdout) as { rps: number; count: number };
const { profile } = (await session.post('Profiler.stop')) as { profile: Profile };
session.disconnect();
await service.stop();
const out = join(ROOT, 'tmp', `authz-${Date.now()}.cpuprofile`);
await mkdir(join(ROOT, 'tmp'), { recursive: true });
await writeFile(out, JSON.stringify(profile));

interface Profile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string }; children?: number[] }>;
  samples: number[];
  timeDeltas: number[];
}

const PARTS: Array<[string, RegExp]> = [
  ['WebAssembly (policy evaluation)', /^wasm:\/\//],
  ['host builtins (io.jwt, sprintf, ...)', /(src|dist)\/policy\/builtins\//],
  ['input and result JSON in and out of the WebAssembly', /(src|dist)\/policy\/(wasm|value)\//],
  ['protobuf decode/encode (protobufjs)', /node_modules\/protobufjs\//],
  ['grpc-js', /node_modules\/@grpc\/grpc-js\//],
  ['HTTP/2 and sockets (node)', /^node:(internal\/)?(http2|net|stream|internal\/stream|_http|internal\/http2)|^node:internal\/(stream_base_commons|js_stream_socket|streams)/],
  ['input build (protomap, path, body)', /(src|dist)\/authz\/input\//],
  ['JWT facts (jose, cache)', /node_modules\/jose\/|(src|dist)\/authz\/(jwt|jwks)\//],
  ['mesh facts, decision, answer', /(src|dist)\/authz\//],
  ['audit log (mask, hash chain, file sink)', /(src|dist)\/audit\//],
  ['metrics (prom-client)', /node_modules\/prom-client\//],
  ['RE2 and other WebAssembly builtins', /node_modules\/re2-wasm\//],
];

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const totals = new Map<string, number>();
let all = 0;
for (const [id, us] of self) {
  const node = byId.get(id);
  if (!node) continue;
  const { url, functionName } = node.callFrame;
  let part = PARTS.find(([, re]) => re.test(url))?.[0];
  // protobufjs generates its codecs with new Function: they have no URL, only their names.
  if (!part && /\$(decode|encode|verify)$/.test(functionName)) part = 'protobuf decode/encode (protobufjs)';
  if (!part) part = functionName === '(idle)' ? 'idle' : functionName === '(garbage collector)' ? 'garbage collection' : functionName === '(program)' ? 'V8 and native code (program)' : url.startsWith('node:') ? 'other node internals' : url === '' ? 'native functions and V8 builtins' : 'other JavaScript';
  totals.set(part, (totals.get(part) ?? 0) + us);
  if (part !== 'idle') all += us;
}
console.log(`${report.count} Checks in ${SECONDS} s (${report.rps.toFixed(0)} req/s) from ghz; main thread CPU ${(all / 1000).toFixed(0)} ms, ${(all / report.count).toFixed(1)} µs per Check; profile ${out}`);
for (const [part, us] of [...totals].filter(([p]) => p !== 'idle').sort((a, b) => b[1] - a[1])) {
  console.log(`${part.padEnd(56)} ${((100 * us) / all).toFixed(1).padStart(5)} %   ${(us / report.count).toFixed(1).padStart(6)} µs/Check`);
}

// opa-envoy-plugin: Go's CPU profile of the whole process while ghz loads it.
const reference = await startReference([policyFile], 'envoy/authz/result', { decisionLogs: true, logFile: join(dir, 'reference.log'), pprof: true });
try {
  await ghz(3, reference.port);
  console.log(`${(await run('uptime')).stdout.trim()} (before profiling opa-envoy-plugin)`);
  const [load, pprof] = await Promise.all([ghz(SECONDS + 1, reference.port), fetch(`${reference.httpUrl}/debug/pprof/profile?seconds=${SECONDS}`).then(async (r) => Buffer.from(await r.arrayBuffer()))]);
  const loaded = JSON.parse(load.stdout) as { rps: number };
  const pprofFile = join(ROOT, 'tmp', `authz-opa-envoy-plugin-${Date.now()}.pprof`);
  await writeFile(pprofFile, pprof);
  const { stdout: top } = await run('go', ['tool', 'pprof', '-top', '-cum', '-nodecount=100000', pprofFile], { maxBuffer: 64 * 1024 * 1024 });
  const total = /Total samples = ([\d.]+)(ms|s)/.exec(top);
  const cpuMs = total ? Number(total[1]) * (total[2] === 's' ? 1000 : 1) : NaN;
  // cum% of the outermost function matching each part.
  const cum = (re: RegExp) => Math.max(0, ...top.split('\n').map((l) => l.trim().split(/\s+/)).filter((c) => c.length >= 6 && re.test(c.slice(5).join(' '))).map((c) => parseFloat(c[4] ?? '0')));
  const PLUGIN_PARTS: Array<[string, RegExp]> = [
    ['policy evaluation (OPA topdown)', /\/topdown\./],
    ['  of which io.jwt.* builtins', /\/topdown\.builtinJWT/],
    ['    of which reading the keys (JWKS / PEM)', /\/topdown\.getKeysFromCertOrJWK$/],
    ['  of which sprintf', /\/topdown\.builtinSprintf$/],
    ['decision log (event to JSON and AST, logrus)', /\)\.logDecision$/],
    ['building the input (RequestToInput)', /envoyauth\.RequestToInput$/],
    ['protobuf decoding (grpc codec)', /grpc\/encoding\/proto\.\(\*codecV2\)\.Unmarshal$/],
    ['gRPC HTTP/2 transport', /grpc\/internal\/transport\./],
    ['garbage collector (background marking)', /runtime\.gcBgMarkWorker$/],
  ];
  console.log(`\nopa-envoy-plugin: ${loaded.rps.toFixed(0)} req/s from ghz; process CPU ${cpuMs.toFixed(0)} ms in ${SECONDS} s, ${((cpuMs * 1000) / (loaded.rps * SECONDS)).toFixed(0)} µs per Check; profile ${pprofFile}`);
  for (const [part, re] of PLUGIN_PARTS) console.log(`${part.padEnd(56)} ${cum(re).toFixed(1).padStart(5)} %`);
} finally {
  await reference.close();
  await rm(dir, { recursive: true, force: true });
}
