// grpcurl (built from the Go module proxy by scripts/tools.sh) against the gRPC door, with Envoy's published protos.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { EXTERNAL_AUTH_PROTO, envoyProtoIncludes } from '../../src/authz/grpc/protos.js';
import { FIXTURES, ROOT } from '../helpers/paths.js';
import { testBundle } from './bundles.js';
import { startAuthz } from './harness.js';
import { AUDIENCE, ISSUER, sign, testKey } from './issuer.js';

const run = promisify(execFile);
const GRPCURL = join(ROOT, '.tools', 'bin', 'grpcurl');
if (!existsSync(GRPCURL)) await run('bash', [join(ROOT, 'scripts', 'tools.sh'), 'grpcurl']);

const dir = await mkdtemp(join(tmpdir(), 'portcullis-grpcurl-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const key = await testKey('k1');
const h = await startAuthz({ bundle: await testBundle(dir), authz: { entrypoint: 'envoy/authz/result', jwt: { issuers: [{ issuer: ISSUER, audiences: [AUDIENCE], jwks: { keys: [key.jwk] } }] } } });
t.teardown(() => h.close());
const fixture = await readFile(join(FIXTURES, 'authz', 'check-jwt-mtls.json'), 'utf8');

async function grpcurl(request: string, ...extra: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const args = ['-plaintext', ...envoyProtoIncludes().flatMap((d) => ['-import-path', d]), '-proto', EXTERNAL_AUTH_PROTO, ...extra, '-d', '@', `127.0.0.1:${h.grpcPort}`, 'envoy.service.auth.v3.Authorization/Check'];
  return new Promise((resolve) => {
    const child = execFile(GRPCURL, args, { timeout: 30000 }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
    child.stdin?.end(request);
  });
}

t.test('the fixture CheckRequest with a real token is allowed', async (t) => {
  const token = await sign(key, { scope: 'charges:write' });
  const r = await grpcurl(fixture.replace('REPLACE_WITH_A_TOKEN_SIGNED_BY_THE_TEST_ISSUER', token));
  t.equal(r.code, 0, r.stderr);
  const body = JSON.parse(r.stdout);
  t.strictSame(body.status ?? {}, {}, 'code OK is the default, so omitted');
  t.strictSame(body.okResponse.headers, [{ header: { key: 'x-ext-authz-subject', value: 'user-1' } }]);
  t.match(body.dynamicMetadata.decision_id, /^[0-9a-f-]{36}$/);
});

t.test('without the scope: denied with the policy status', async (t) => {
  const r = await grpcurl(fixture.replace('REPLACE_WITH_A_TOKEN_SIGNED_BY_THE_TEST_ISSUER', await sign(key, { scope: 'read' })));
  t.equal(r.code, 0, r.stderr);
  const body = JSON.parse(r.stdout);
  t.equal(body.status.code, 7);
  t.equal(body.deniedResponse.status.code, 'Forbidden');
});

t.test('the unchanged fixture (placeholder token) is a 401', async (t) => {
  const body = JSON.parse((await grpcurl(fixture)).stdout);
  t.equal(body.deniedResponse.status.code, 'Unauthorized');
});

t.test('a request grpcurl cannot even encode never reaches the server; one without attributes is evaluated as opa-envoy-plugin does', async (t) => {
  const bad = await grpcurl('{"attributes": {"request": {"http": {"size": "not-a-number"}}}}');
  t.not(bad.code, 0);
  t.match(bad.stderr, /not-a-number/, 'refused while encoding');
  const empty = JSON.parse((await grpcurl('{}')).stdout);
  t.equal(empty.deniedResponse.status.code, 'Unauthorized', 'parsed_path [""], no token: the fixture policy answers 401');
});

t.test('deadline: grpcurl gives up with DeadlineExceeded when the answer cannot come in time', async (t) => {
  // A JWKS endpoint that accepts the connection and never says a word.
  const sockets: Socket[] = [];
  const blackhole = createServer((s) => sockets.push(s));
  await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    blackhole.close();
  });
  const jwksUri = `https://127.0.0.1:${(blackhole.address() as { port: number }).port}/jwks`;
  const slow = await startAuthz({ bundle: await testBundle(dir), authz: { entrypoint: 'envoy/authz/result', jwt: { issuers: [{ issuer: ISSUER, audiences: [AUDIENCE], jwksUri }], jwksTimeoutMs: 10000 } } });
  t.teardown(() => slow.close());
  const token = await sign(key, { scope: 'charges:write' });
  const args = ['-plaintext', ...envoyProtoIncludes().flatMap((d) => ['-import-path', d]), '-proto', EXTERNAL_AUTH_PROTO, '-max-time', '0.3', '-d', '@', `127.0.0.1:${slow.grpcPort}`, 'envoy.service.auth.v3.Authorization/Check'];
  const r = await new Promise<{ code: number; stderr: string }>((resolve) => {
    const child = execFile(GRPCURL, args, { timeout: 30000 }, (err, _o, stderr) => resolve({ code: err ? 1 : 0, stderr }));
    child.stdin?.end(fixture.replace('REPLACE_WITH_A_TOKEN_SIGNED_BY_THE_TEST_ISSUER', token));
  });
  t.equal(r.code, 1);
  t.match(r.stderr, /DeadlineExceeded|deadline exceeded/i);
});
