// nginx (Debian's, with auth_request) in front of a loopback upstream, asking Portcullis' HTTP mode.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { testBundle } from './bundles.js';
import { startAuthz } from './harness.js';
import { AUDIENCE, ISSUER, sign, testKey } from './issuer.js';

const NGINX = '/usr/sbin/nginx';
if (!existsSync(NGINX)) throw new Error('nginx is not installed: `npm test` installs it first (scripts/test-setup.sh); run alone, apt-get install nginx-light');

const dir = await mkdtemp(join(tmpdir(), 'portcullis-nginx-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const key = await testKey('k1');
const authz = await startAuthz({
  bundle: await testBundle(dir),
  authz: { entrypoint: 'envoy/authz/result', jwt: { issuers: [{ issuer: ISSUER, audiences: [AUDIENCE], jwks: { keys: [key.jwk] }, forwardClaims: { sub: 'x-user' } }] } },
});
let authzRunning = true;
t.teardown(() => (authzRunning ? authz.close() : undefined));

// The upstream remembers what reached it.
const seen: Array<{ url: string; headers: IncomingHttpHeaders }> = [];
const upstream: Server = createServer((req, res) => {
  seen.push({ url: req.url ?? '', headers: req.headers });
  res.setHeader('content-type', 'text/plain');
  res.end('upstream secret payload');
});
await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
t.teardown(() => upstream.close());

const port = await freePort();
for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) await mkdir(join(dir, d));
await writeFile(
  join(dir, 'nginx.conf'),
  `daemon off;
master_process off;
worker_processes 1;
error_log ${dir}/error.log warn;
pid ${dir}/nginx.pid;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    location = /_authz {
      internal;
      proxy_pass http://127.0.0.1:${authz.httpPort};
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-URI $request_uri;
      proxy_set_header X-Original-Method $request_method;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
    location / {
      auth_request /_authz;
      auth_request_set $authz_subject $upstream_http_x_ext_authz_subject;
      auth_request_set $authz_user $upstream_http_x_user;
      proxy_set_header X-Ext-Authz-Subject $authz_subject;
      proxy_set_header X-User $authz_user;
      proxy_pass http://127.0.0.1:${(upstream.address() as AddressInfo).port};
    }
  }
}
`,
);
const nginx: ChildProcess = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
t.teardown(() => {
  nginx.kill('SIGTERM');
});
await waitForPort(port);

t.test('allowed: the upstream answers and receives the headers the policy and the token grant', async (t) => {
  const token = await sign(key, { sub: 'user-1' });
  const r = await get('/api/v1/orders/user-1', { authorization: `Bearer ${token}` });
  t.equal(r.status, 200);
  t.equal(r.body, 'upstream secret payload');
  const hit = seen.at(-1);
  t.equal(hit?.url, '/api/v1/orders/user-1');
  t.equal(hit?.headers['x-ext-authz-subject'], 'user-1', 'policy header forwarded');
  t.equal(hit?.headers['x-user'], 'user-1', 'claim header forwarded');
});

t.test('a client cannot set a forwarded header itself', async (t) => {
  const before = seen.length;
  const r = await get('/api/v1/products/7', { 'x-user': 'admin', 'x-ext-authz-subject': 'admin' });
  t.equal(r.status, 200, 'public route');
  t.equal(seen.length, before + 1);
  t.equal(seen.at(-1)?.headers['x-user'], undefined);
  t.equal(seen.at(-1)?.headers['x-ext-authz-subject'], undefined);
});

t.test('denied: 401 without a token, 403 with the wrong one, the upstream never reached', async (t) => {
  const before = seen.length;
  const anonymous = await get('/api/v1/orders/user-1');
  t.equal(anonymous.status, 401);
  t.notMatch(anonymous.body, /upstream/);
  const wrong = await get('/api/v1/orders/user-1', { authorization: `Bearer ${await sign(key, { sub: 'user-2' })}` });
  t.equal(wrong.status, 403);
  const forged = await get('/api/v1/orders/user-1', { authorization: `Bearer ${(await sign(key, { sub: 'user-1' })).slice(0, -4)}AAAA` });
  t.equal(forged.status, 401, 'a forged signature is no token at all');
  const post = await get('/api/v1/orders/user-1', { authorization: `Bearer ${await sign(key, { sub: 'user-1' })}` }, 'DELETE');
  t.equal(post.status, 403, 'the original method reaches the policy');
  t.equal(seen.length, before, 'nothing reached the upstream');
});

t.test('authz server down: nginx answers 500 and nothing of the upstream leaks', async (t) => {
  await authz.close();
  authzRunning = false;
  const before = seen.length;
  const r = await get('/api/v1/products/7');
  t.equal(r.status, 500);
  t.notMatch(r.body, /upstream secret payload/);
  t.equal(seen.length, before);
  t.match(await readFile(join(dir, 'error.log'), 'utf8'), /connect\(\) failed/, 'nginx logged why');
});

function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return p;
}

async function waitForPort(p: number): Promise<void> {
  const deadline = Date.now() + 10000;
  for (;;) {
    try {
      await new Promise<void>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: p, path: '/', method: 'HEAD' }, (res) => {
          res.resume();
          resolve();
        });
        req.on('error', reject);
        req.end();
      });
      return;
    } catch {
      if (Date.now() > deadline) throw new Error('nginx did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
