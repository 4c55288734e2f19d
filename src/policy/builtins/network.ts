import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { parse as parseYaml } from 'yaml';
import { formatRego } from '../value/exact.js';
import { GoJsonError, goMarshal, parseGoJson } from '../value/go-json.js';
import { hostAllowed, nameAllowed } from './allowlist.js';
import { BuiltinError, obj, str, type Builtin } from './builtin.js';
import { regoSet } from '../value/rego-order.js';
import { parseMediaType } from '../value/media-type.js';
import type { DnsJob, HttpJob, NetworkReply } from './network-worker.js';
import { goDuration } from './time.js';

/** What an operator allows policies to reach (policy.network); without it the network builtins are refused. */
export interface NetworkConfig {
  allowedHosts: string[];
  timeoutMs: number;
  cacheSeconds: number;
  maxResponseBytes: number;
}

/** One worker thread per thread that evaluates policies, started before the first call needs it. */
class Network {
  private worker: Worker | undefined;
  private port: MessagePort | undefined;
  /** [0]: answers posted so far; [1]: 1 once the network thread listens. */
  private signal = new Int32Array(new SharedArrayBuffer(8));
  private next = 1;

  start(): void {
    if (this.worker) return;
    const { port1, port2 } = new MessageChannel();
    this.signal = new Int32Array(new SharedArrayBuffer(8));
    const file = new URL(import.meta.url.endsWith('.ts') ? './network-worker.ts' : './network-worker.js', import.meta.url);
    const worker = new Worker(file, { workerData: { port: port2, signal: this.signal }, transferList: [port2] });
    worker.unref();
    // A network thread that died is replaced at the next call; the calls waiting on it time out.
    const forget = () => {
      if (this.worker === worker) this.worker = undefined;
    };
    worker.on('error', forget);
    worker.on('exit', forget);
    this.worker = worker;
    this.port = port1;
  }

  /** Runs a job on the network thread and waits for its answer, at most `waitMs` once the thread is up. */
  run(job: Omit<HttpJob, 'id'> | Omit<DnsJob, 'id'>, waitMs: number): NetworkReply {
    this.start();
    const id = this.next++;
    // A thread still starting (loading its code) gets its start-up time on top of the request's.
    if (Atomics.load(this.signal, 1) === 0) Atomics.wait(this.signal, 1, 0, 10000);
    (this.port as MessagePort).postMessage({ ...job, id });
    const deadline = Date.now() + waitMs;
    for (;;) {
      const seen = Atomics.load(this.signal, 0);
      const message = receiveMessageOnPort(this.port as MessagePort)?.message as NetworkReply | undefined;
      // An answer to a job that was given up on earlier is dropped.
      if (message?.id === id) return message;
      if (message) continue;
      const left = deadline - Date.now();
      if (left <= 0) return { id, error: `${'url' in job ? `${job.method} ${job.url}` : `lookup ${job.host}`}: request timed out`, network: true };
      Atomics.wait(this.signal, 0, seen, left);
    }
  }
}

const network = new Network();
const cache = new Map<string, { until: number; value: unknown }>();

const KEYS = new Set(['method', 'url', 'body', 'enable_redirect', 'force_json_decode', 'force_yaml_decode', 'headers', 'raw_body', 'timeout', 'cache', 'force_cache', 'force_cache_duration_seconds', 'raise_error', 'caching_mode', 'max_retry_attempts', 'cache_ignored_headers']);
const TLS_KEYS = /^tls_/;

/**
 * http.send and net.lookup_ip_addr as OPA has them, restricted to the hosts the operator allows, with the
 * operator's timeout as the upper bound, and cached: a request repeats within one evaluation from its
 * memo (OPA's intra-query cache), and across evaluations when it asks to be cached (`cache`,
 * `force_cache`), for at most cacheSeconds. A host not allowed is an error, as a network failure is.
 */
export function networkBuiltins(config: NetworkConfig, start = true): Record<string, Builtin> {
  if (start) network.start();
  return {
    'http.send': (args, evaluation) => {
      const req = obj(args, 0);
      const raiseError = req.raise_error ?? true;
      if (typeof raiseError !== 'boolean') throw new BuiltinError('raise_error must be a boolean');
      const key = formatRego(req);
      const memo = evaluation.memo.get(`http.send ${key}`);
      if (memo !== undefined) return memo;
      const cached = cache.get(key);
      if (cached && cached.until > Date.now()) return cached.value;
      let response: { value: unknown; maxAgeSeconds: number };
      try {
        response = send(req, config);
      } catch (err) {
        if (raiseError) throw new BuiltinError(`http.send: ${(err as Error).message}`);
        response = { value: { status_code: 0, error: { code: err instanceof NetworkError ? 'eval_http_send_network_error' : 'eval_http_send_internal_error', message: (err as Error).message } }, maxAgeSeconds: 0 };
      }
      evaluation.memo.set(`http.send ${key}`, response.value);
      const seconds = Math.min(config.cacheSeconds, response.maxAgeSeconds);
      if (seconds > 0) {
        if (cache.size >= 1000) cache.delete(cache.keys().next().value as string);
        cache.set(key, { until: Date.now() + seconds * 1000, value: response.value });
      }
      return response.value;
    },
    'net.lookup_ip_addr': (args) => {
      const host = str(args, 0);
      if (!nameAllowed(host, config.allowedHosts)) throw new BuiltinError(`lookup ${host}: not an allowed host`);
      const reply = network.run({ kind: 'dns', host, timeoutMs: config.timeoutMs }, config.timeoutMs + 200);
      if ('error' in reply) throw new BuiltinError(reply.error);
      return regoSet((reply as { addresses: string[] }).addresses);
    },
  };
}

class NetworkError extends Error {}

function send(req: Record<string, unknown>, config: NetworkConfig): { value: unknown; maxAgeSeconds: number } {
  const invalid = Object.keys(req).filter((k) => !KEYS.has(k) && !TLS_KEYS.test(k));
  if (invalid.length > 0) throw new Error(`invalid request parameters(s): ${JSON.stringify(invalid.sort())}`);
  const tls = Object.keys(req).filter((k) => TLS_KEYS.test(k));
  if (tls.length > 0) throw new Error(`${tls.join(', ')}: not supported (the host trusts the system roots)`);
  if (typeof req.method !== 'string' || typeof req.url !== 'string') throw new Error('method and url are required strings');
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    throw new Error(`invalid url ${JSON.stringify(req.url)}`);
  }
  if (!hostAllowed(url, config.allowedHosts)) throw new NetworkError(`${req.method.toUpperCase()} ${req.url}: ${url.host} is not an allowed host`);
  const headers: Array<[string, string]> = [];
  if (req.headers !== undefined) {
    if (typeof req.headers !== 'object' || req.headers === null || Array.isArray(req.headers)) throw new Error('headers must be an object');
    for (const [k, v] of Object.entries(req.headers)) headers.push([k, typeof v === 'string' ? v : goMarshal(v)]);
  }
  let body: Uint8Array | undefined;
  if (req.raw_body !== undefined) {
    if (typeof req.raw_body !== 'string') throw new Error('raw_body must be a string');
    body = Buffer.from(req.raw_body);
  } else if (req.body !== undefined) body = Buffer.from(goMarshal(req.body));
  let timeoutMs = config.timeoutMs;
  if (req.timeout !== undefined) {
    const t = typeof req.timeout === 'string' ? Number(goDuration(req.timeout)) / 1e6 : Number(req.timeout) / 1e6;
    if (!Number.isFinite(t) || t < 0) throw new Error('invalid timeout');
    if (t > 0) timeoutMs = Math.min(timeoutMs, t);
  }
  const reply = network.run({ kind: 'http', method: req.method.toUpperCase(), url: url.toString(), headers, ...(body ? { body } : {}), timeoutMs, redirects: req.enable_redirect === true, allowedHosts: config.allowedHosts, maxResponseBytes: config.maxResponseBytes }, timeoutMs + 200);
  if ('error' in reply) {
    if (reply.network) throw new NetworkError(reply.error);
    throw new Error(reply.error);
  }
  if (!('status' in reply)) throw new Error('unexpected reply');
  const raw = Buffer.from(reply.body).toString('utf8');
  const contentType = reply.headers.find(([k]) => k === 'content-type')?.[1] ?? '';
  let parsed: unknown = null;
  const media = mediaTypeOf(contentType);
  if (req.force_json_decode === true || media === 'application/json' || /^application\/[^/]*\+json$/.test(media)) {
    try {
      parsed = parseGoJson(raw);
    } catch (err) {
      if (!(err instanceof GoJsonError)) throw err;
    }
  } else if (req.force_yaml_decode === true || media === 'application/yaml' || media === 'application/x-yaml') {
    try {
      parsed = parseYaml(raw) ?? null;
    } catch {
      parsed = null;
    }
  }
  const grouped: Record<string, string[]> = {};
  for (const [k, v] of reply.headers) (grouped[k.toLowerCase()] ??= []).push(v);
  const value = { status: `${reply.status} ${reply.statusText}`, status_code: reply.status, body: parsed, raw_body: raw, headers: grouped };
  return { value, maxAgeSeconds: cacheSeconds(req, reply.headers) };
}

function mediaTypeOf(contentType: string): string {
  try {
    return parseMediaType(contentType).type;
  } catch {
    return '';
  }
}

/** How long a response may be reused: force_cache's duration, or with `cache` the response's max-age. */
function cacheSeconds(req: Record<string, unknown>, headers: Array<[string, string]>): number {
  if (req.force_cache === true) return Number(req.force_cache_duration_seconds ?? 0);
  if (req.cache !== true) return 0;
  const cc = headers.find(([k]) => k === 'cache-control')?.[1] ?? '';
  if (/no-store|no-cache/.test(cc)) return 0;
  const m = /max-age=(\d+)/.exec(cc);
  return m ? Number(m[1]) : 0;
}
