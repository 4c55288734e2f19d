// http.send and net.lookup_ip_addr, allowed by policy.network: a real HTTP server on loopback, the
// allowlist (hosts and redirects), the timeout, the response size limit, the caches.
import { Worker } from 'node:worker_threads';
import t from 'tap';
import { readArchive } from '../../src/policy/bundle/archive.js';
import { loadBundle } from '../../src/policy/bundle/bundle.js';
import { DEFAULT_LIMITS } from '../../src/policy/bundle/files.js';
import { PolicyEngine } from '../../src/policy/engine.js';
import { stringify } from '../../src/policy/value/raw-number.js';
import { buildBundle } from '../helpers/bundles.js';

// The server runs on a thread of its own: a policy's http.send blocks the thread that evaluates it.
const SERVER = `
const { createServer } = require('node:http');
const { parentPort } = require('node:worker_threads');
let hits = 0;
const server = createServer((req, res) => {
  hits++;
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname === '/slow') return void setTimeout(() => res.end('late'), 1500);
  if (url.pathname === '/redirect') return void res.writeHead(302, { location: url.searchParams.get('to') ?? '/' }).end();
  if (url.pathname === '/big') return void res.end('x'.repeat(10000));
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=60', 'x-hits': String(hits) });
    res.end(JSON.stringify({ method: req.method, path: url.pathname, auth: req.headers.authorization ?? null, body: Buffer.concat(chunks).toString(), big: 1 }).replace('"big":1', '"big":12345678901234567890'));
  });
});
server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
parentPort.on('message', () => server.close(() => process.exit(0)));
`;
const serverThread = new Worker(SERVER, { eval: true });
const port = await new Promise<number>((resolve) => serverThread.once('message', resolve));
t.teardown(() => serverThread.terminate());
const base = `http://127.0.0.1:${port}`;

const POLICY = `package net

import rego.v1

response := http.send(input.request)

twice := [a, b] if {
	a := http.send(input.request).headers["x-hits"]
	b := http.send(input.request).headers["x-hits"]
}

status := response.status_code

addresses := net.lookup_ip_addr(input.host)
`;

const archive = await buildBundle({ 'net.rego': POLICY }, { entrypoints: ['net/response', 'net/twice', 'net/status', 'net/addresses'], roots: ['net'] });
const engine = new PolicyEngine({ host: { network: { allowedHosts: ['127.0.0.1', 'localhost'], timeoutMs: 500, cacheSeconds: 30, maxResponseBytes: 4096 } } });
await engine.activate(await loadBundle('net', await readArchive('net', archive, DEFAULT_LIMITS)));
const send = (request: Record<string, unknown>) => engine.current().evaluate('net/response', { request }, undefined, true) as Record<string, any> | undefined;

t.test('a request to an allowed host: OPA\'s response object, JSON body read with numbers kept', async (t) => {
  const r = send({ method: 'post', url: `${base}/echo`, headers: { authorization: 'Bearer x' }, body: { a: 1 } });
  t.match(r, { status: '200 OK', status_code: 200, body: { method: 'POST', path: '/echo', auth: 'Bearer x', body: '{"a":1}' }, headers: { 'content-type': ['application/json'] } });
  t.equal(stringify(r?.body.big), '12345678901234567890', 'a big number keeps its digits');
  t.equal(typeof r?.raw_body, 'string');
});

t.test('within one evaluation a request is sent once; across evaluations it is cached only when it asks', async (t) => {
  const request = { method: 'get', url: `${base}/count` };
  const [a, b] = engine.current().evaluate('net/twice', { request }) as string[][];
  t.strictSame(a, b, 'the same answer twice in one evaluation');
  const first = send(request)?.headers['x-hits'];
  t.not(send(request)?.headers['x-hits'], first, 'not cached across evaluations by default');
  const cached = { ...request, cache: true };
  const c1 = send(cached)?.headers['x-hits'];
  t.strictSame(send(cached)?.headers['x-hits'], c1, 'cache: true honours the response\'s max-age');
  const forced = { ...request, url: `${base}/forced`, force_cache: true, force_cache_duration_seconds: 10 };
  const f1 = send(forced)?.headers['x-hits'];
  t.strictSame(send(forced)?.headers['x-hits'], f1, 'force_cache');
});

t.test('hosts not allowed, redirects to them, slow answers, big bodies: errors, undefined unless raise_error is false', async (t) => {
  t.equal(send({ method: 'get', url: 'http://192.0.2.1/' }), undefined, 'a host not in the allowlist is never contacted');
  t.match(send({ method: 'get', url: 'http://192.0.2.1/', raise_error: false }), { status_code: 0, error: { code: 'eval_http_send_network_error', message: /not an allowed host/ } });
  t.match(send({ method: 'get', url: `${base}/redirect?to=${encodeURIComponent('http://192.0.2.1/')}`, enable_redirect: true, raise_error: false }), { status_code: 0, error: { message: /redirect to http:\/\/192\.0\.2\.1 is not an allowed host/ } });
  t.match(send({ method: 'get', url: `${base}/redirect?to=/echo`, enable_redirect: true }), { status_code: 200, body: { path: '/echo' } }, 'a redirect within the allowlist is followed');
  t.match(send({ method: 'get', url: `${base}/redirect?to=/echo` }), { status_code: 302 }, 'and not without enable_redirect');
  const started = Date.now();
  t.match(send({ method: 'get', url: `${base}/slow`, raise_error: false }), { status_code: 0, error: { message: /timed out/ } });
  t.ok(Date.now() - started < 1200, 'the operator\'s timeout bounds the wait');
  t.match(send({ method: 'get', url: `${base}/big`, raise_error: false }), { status_code: 0, error: { message: /over 4096 bytes/ } });
  t.equal(send({ method: 'get', url: `${base}/echo`, tls_insecure_skip_verify: true }), undefined, 'TLS options are not supported');
  t.equal(send({ method: 'get', url: `${base}/echo`, bogus: 1 }), undefined, 'unknown parameters are an error, as in OPA');
});

t.test('net.lookup_ip_addr for an allowed name only', async (t) => {
  const addresses = engine.current().evaluate('net/addresses', { host: 'localhost' }) as string[];
  t.ok(addresses.includes('127.0.0.1') || addresses.includes('::1'), `localhost resolves (${addresses})`);
  t.equal(engine.current().evaluate('net/addresses', { host: 'example.com' }), undefined, 'a name not allowed is not looked up');
});
