// Envoy's HTTP ext_authz mode: original method, path (after path_prefix) and headers in, the answer out.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { testBundle } from './bundles.js';
import { startAuthz } from './harness.js';

const dir = await mkdtemp(join(tmpdir(), 'portcullis-http-test-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const h = await startAuthz({ bundle: await testBundle(dir), authz: { entrypoint: 'results/decision', maxBodyBytes: 1024, http: { pathPrefix: '/ext_authz' } } });
t.teardown(() => h.close());

t.test('allowed: 200 with headers for upstream and client, removals in x-envoy-auth-headers-to-remove', async (t) => {
  const r = await h.http('/ext_authz/limited/x?y=1', { headers: { cookie: 'session=1' } });
  t.equal(r.status, 200);
  t.equal(r.headers['x-from-policy'], '1');
  t.equal(r.headers['x-served-by'], 'portcullis');
  t.equal(r.headers['x-envoy-auth-headers-to-remove'], 'cookie');
  const event = await h.event(r.headers['x-portcullis-decision-id'] as string);
  t.match(event, { decision: 'allow', authz: { transport: 'http', method: 'GET', path: '/limited/x?y=1' } });
  t.match(event.input, { parsed_path: ['limited', 'x'], parsed_query: { y: ['1'] }, attributes: { request: { http: { headers: { cookie: '**REDACTED**' } } } }, mesh: { source: { ip: '127.0.0.1', country: 'internal' } } });
});

t.test('denied: the status, headers and body the client will see', async (t) => {
  const r = await h.http('/ext_authz/payment', { method: 'POST' });
  t.equal(r.status, 402);
  t.equal(r.headers['x-why'], 'unpaid');
  t.equal(r.body, 'pay first');
  const broken = await h.http('/ext_authz/broken');
  t.equal(broken.status, 403);
  t.equal(broken.body, 'access denied', 'a failed decision says nothing more');
});

t.test('bodies: JSON reaches the policy, oversized ones are refused before buffering', async (t) => {
  const ok = await h.http('/ext_authz/open', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"amount": 12}' });
  t.equal(ok.status, 200);
  t.match((await h.event(ok.headers['x-portcullis-decision-id'] as string)).input, { parsed_body: { amount: 12 }, truncated_body: false, attributes: { request: { http: { method: 'POST', body: '{"amount": 12}', size: '14' } } } });
  const big = await h.http('/ext_authz/open', { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"pad": "${'x'.repeat(2000)}"}` });
  t.equal(big.status, 413);
  t.match(await h.event(big.headers['x-portcullis-decision-id'] as string), { decision: 'error', error: /larger than 1024 bytes/ });
  const chunked = await h.http('/ext_authz/open', { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, body: `"${'y'.repeat(3000)}"` });
  t.equal(chunked.status, 413, 'without a content-length too');
  const bad = await h.http('/ext_authz/open', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{nope' });
  t.equal(bad.status, 400);
});

t.test('header limits: an oversized header block is refused by the server itself', async (t) => {
  const r = await h.http('/ext_authz/open', { headers: { 'x-big': 'z'.repeat(20000) } });
  t.equal(r.status, 431);
  t.equal((await h.http('/ext_authz/open')).status, 200, 'and the next request is fine');
});
