import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { DEFAULT_LIMITS } from '../../src/policy/bundle/files.js';
import { PolicyEngine } from '../../src/policy/engine.js';
import { BundleManager, type BundleStatus } from '../../src/policy/manager.js';
import { HttpSource } from '../../src/policy/sources/http.js';
import { LocalSource } from '../../src/policy/sources/local.js';
import { buildBundle, untarGz } from '../helpers/bundles.js';

const silent = { info: () => undefined, error: () => undefined };
const policy = (v: string) => ({ 'app/p.rego': `package app\nversion := "${v}"\n` });
const keyPair = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privatePem = keyPair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const publicPem = keyPair.publicKey.export({ type: 'spki', format: 'pem' }).toString();

/** Waits for the manager's next activation or failure. */
function next(manager: BundleManager): Promise<{ event: 'activated' | 'failed'; status: BundleStatus }> {
  return new Promise((resolve) => {
    const on = (event: 'activated' | 'failed') => (status: BundleStatus) => {
      manager.off('activated', a);
      manager.off('failed', f);
      resolve({ event, status });
    };
    const a = on('activated');
    const f = on('failed');
    manager.on('activated', a);
    manager.on('failed', f);
  });
}

async function writeTree(dir: string, archive: Buffer): Promise<void> {
  for (const e of await untarGz(archive)) {
    const path = join(dir, e.name);
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, e.content as Buffer);
  }
}

t.test('local directory swapped by git-sync (symlink replaced atomically) hot-reloads', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'portcullis-gitsync-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const worktree = async (rev: string, archive: Buffer) => {
    const dir = join(root, '.worktrees', rev);
    await writeTree(dir, archive);
    // git-sync creates a new link and renames it over the old one, so readers never see it missing.
    await symlink(dir, join(root, 'tmp-link'));
    await rename(join(root, 'tmp-link'), join(root, 'current'));
  };
  await worktree('aaa', await buildBundle(policy('v1'), { entrypoints: ['app/version'], revision: 'aaa' }));

  const engine = new PolicyEngine();
  const manager = new BundleManager(engine, [{ name: 'git', source: new LocalSource({ name: 'git', path: join(root, 'current'), limits: DEFAULT_LIMITS, pollIntervalMs: 200 }) }], silent);
  const first = next(manager);
  manager.start();
  t.teardown(() => manager.stop());
  t.equal((await first).status.revision, 'aaa');
  t.equal(engine.evaluate('app/version', {}), 'v1');
  t.ok(manager.ready());

  const second = next(manager);
  await worktree('bbb', await buildBundle(policy('v2'), { entrypoints: ['app/version'], revision: 'bbb' }));
  t.equal((await second).status.revision, 'bbb', 'the swap is noticed');
  t.equal(engine.evaluate('app/version', {}), 'v2');

  // A broken commit: the swap is refused, v2 keeps serving, the status names the reason.
  const third = next(manager);
  const broken = join(root, '.worktrees', 'ccc');
  await mkdir(broken, { recursive: true });
  await writeFile(join(broken, '.manifest'), '{"revision": "ccc", "wasm": [{"entrypoint": "app/version", "module": "/policy.wasm"}]}');
  await writeFile(join(broken, 'policy.wasm'), 'garbage');
  await symlink(broken, join(root, 'tmp-link'));
  await rename(join(root, 'tmp-link'), join(root, 'current'));
  const failed = await third;
  t.equal(failed.event, 'failed');
  t.match(failed.status.lastError, /policy\.wasm is not valid WebAssembly/);
  t.equal(failed.status.revision, 'bbb', 'status still shows the serving revision');
  t.equal(engine.evaluate('app/version', {}), 'v2', 'the last good bundle keeps serving');
});

t.test('a .tar.gz file edited in place is reloaded', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-file-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'bundle.tar.gz');
  await writeFile(file, await buildBundle(policy('v1'), { entrypoints: ['app/version'], revision: 'one' }));
  const engine = new PolicyEngine();
  const manager = new BundleManager(engine, [{ name: 'file', source: new LocalSource({ name: 'file', path: file, limits: DEFAULT_LIMITS, pollIntervalMs: 200 }) }], silent);
  const first = next(manager);
  manager.start();
  t.teardown(() => manager.stop());
  t.equal((await first).status.revision, 'one');
  const second = next(manager);
  await writeFile(file, await buildBundle(policy('v2'), { entrypoints: ['app/version'], revision: 'two' }));
  t.equal((await second).status.revision, 'two');
  t.equal(engine.evaluate('app/version', {}), 'v2');
});

t.test('HTTP bundle server: ETag polling, changed, corrupt and mis-signed bundles in turn', async (t) => {
  const good1 = await buildBundle(policy('v1'), { entrypoints: ['app/version'], revision: 'r1', signingKey: privatePem, keyId: 'ci' });
  const good2 = await buildBundle(policy('v2'), { entrypoints: ['app/version'], revision: 'r2', signingKey: privatePem, keyId: 'ci' });
  const unsigned = await buildBundle(policy('evil'), { entrypoints: ['app/version'], revision: 'evil' });
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const misSigned = await buildBundle(policy('evil'), { entrypoints: ['app/version'], revision: 'evil2', signingKey: other, keyId: 'ci' });

  let body: Buffer = good1;
  let etag = '"1"';
  let status = 200;
  const requests: Array<{ ifNoneMatch?: string; auth?: string }> = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    requests.push({ ifNoneMatch: req.headers['if-none-match'], auth: req.headers.authorization });
    if (status !== 200) {
      res.writeHead(status).end('unavailable');
    } else if (req.headers['if-none-match'] === etag) {
      res.writeHead(304).end();
    } else {
      res.writeHead(200, { etag, 'content-type': 'application/gzip' }).end(body);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/bundles/app.tar.gz`;

  const engine = new PolicyEngine();
  const source = new HttpSource({ name: 'remote', url, limits: DEFAULT_LIMITS, headers: { authorization: 'Bearer s3cret' }, minDelayMs: 50, maxDelayMs: 80, maxBackoffMs: 200 });
  const manager = new BundleManager(engine, [{ name: 'remote', source, verification: { keys: { ci: { algorithm: 'RS256', key: publicPem } } } }], silent);
  const first = next(manager);
  manager.start();
  t.teardown(() => manager.stop());
  const a = await first;
  t.equal(a.status.revision, 'r1');
  t.equal(a.status.etag, '"1"');
  t.equal(engine.evaluate('app/version', {}), 'v1');
  t.equal(requests[0]?.auth, 'Bearer s3cret', 'configured headers are sent');

  await new Promise((r) => setTimeout(r, 300));
  t.ok(requests.length >= 3, `kept polling (${requests.length} requests)`);
  t.ok(requests.slice(1).every((r) => r.ifNoneMatch === '"1"'), 'later polls send If-None-Match');
  t.equal(manager.status()[0]?.activations, 1, '304 answers do not reactivate');

  const changed = next(manager);
  body = good2;
  etag = '"2"';
  t.equal((await changed).status.revision, 'r2', 'a changed bundle is activated');
  t.equal(engine.evaluate('app/version', {}), 'v2');

  for (const [what, archive, reason] of [
    ['corrupt', Buffer.from('this is not a tarball'), /not a valid \.tar\.gz/],
    ['unsigned', unsigned, /unsigned bundle refused/],
    ['mis-signed', misSigned, /signature verification failed/],
  ] as const) {
    const refused = next(manager);
    body = archive;
    etag = `"${what}"`;
    const r = await refused;
    t.equal(r.event, 'failed', `${what} bundle refused`);
    t.match(r.status.lastError, reason);
    t.equal(engine.evaluate('app/version', {}), 'v2', `v2 still serves after the ${what} bundle`);
  }

  const down = next(manager);
  status = 503;
  t.match((await down).status.lastError, /bundle server answered 503/);
  const back = next(manager);
  status = 200;
  body = good1;
  etag = '"3"';
  const recovered = await back;
  t.equal(recovered.status.revision, 'r1', 'recovers once the server is back');
  t.notOk(recovered.status.lastError, 'the error is cleared by the next success');
  t.ok(recovered.status.failures >= 4);
});

t.test('whenReady names what is missing when no bundle ever arrives', async (t) => {
  const engine = new PolicyEngine();
  const manager = new BundleManager(engine, [{ name: 'nowhere', source: new LocalSource({ name: 'nowhere', path: '/nonexistent/bundle', limits: DEFAULT_LIMITS }) }], silent);
  manager.start();
  t.teardown(() => manager.stop());
  await t.rejects(manager.whenReady(300), /no active bundle after 300 ms \(nowhere: .*nonexistent/);
  t.notOk(manager.ready());
});
