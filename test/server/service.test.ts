import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import t, { type Test } from 'tap';
import { parseConfig } from '../../src/server/config.js';
import { createLogger } from '../../src/server/logger.js';
import { startService, type Service } from '../../src/server/service.js';

/** Collects what the service writes on its stdout (log and audit lines) in memory. */
function memoryStdout() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  const dest = Object.assign(stream, { flush: (cb?: () => void) => cb?.() });
  return { lines, dest };
}

async function start(t: Test, extra: object = {}): Promise<{ service: Service; base: string; token: string; lines: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-service-'));
  const config = parseConfig({ admin: { host: '127.0.0.1', port: 0 }, tls: { dir }, admission: { enabled: false }, authz: { enabled: false }, ...extra });
  const { lines, dest } = memoryStdout();
  const service = await startService({ config, log: createLogger('info', dest), stdout: dest as never, frontDoors: [] });
  t.teardown(async () => {
    await service.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const token = (await readFile(join(dir, 'admin-token'), 'utf8')).trim();
  return { service, base: `http://127.0.0.1:${service.admin.port}`, token, lines };
}


t.test('standalone start: built-in bundle active, probes, metrics and the status API behind a token', async (t) => {
  const { service, base, token, lines } = await start(t);
  t.match(await (await fetch(`${base}/healthz`)).json(), { status: 'ok' });
  const ready = await fetch(`${base}/readyz`);
  t.equal(ready.status, 200);
  t.match(await ready.json(), { checks: { bundles: true, tls: true, draining: false } });

  const metrics = await (await fetch(`${base}/metrics`)).text();
  t.match(metrics, /# TYPE portcullis_decisions_total counter/);
  t.match(metrics, /portcullis_bundle_info\{name="builtin",revision="sha256-[0-9a-f]{16}"\} 1/);
  t.match(metrics, /portcullis_certificate_expiry_timestamp_seconds\{name="serving"\} \d+/);
  t.match(metrics, /nodejs_eventloop_lag_seconds/);
  // Every line is a comment or a sample in the Prometheus text format, and every sample's family is declared.
  const declared = new Set<string>();
  const samples: string[] = [];
  for (const line of metrics.split('\n').filter(Boolean)) {
    const type = /^# TYPE ([a-zA-Z_:][\w:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) declared.add(type[1] as string);
    else if (!line.startsWith('# HELP ')) {
      t.match(line, /^[a-zA-Z_:][\w:]*(\{([a-zA-Z_]\w*="(\\.|[^"\\])*",?)*\})? (-?[0-9.]+(e[+-]?\d+)?|NaN|[+-]Inf)$/, `sample line: ${line}`);
      samples.push(line.replace(/[{ ].*$/, ''));
    }
  }
  const family = (name: string) => name.replace(/_(bucket|sum|count)$/, '');
  t.ok(samples.every((name) => declared.has(name) || declared.has(family(name))), 'every sample belongs to a declared family');

  t.equal((await fetch(`${base}/api/v1/mesh/status`)).status, 401, 'no token');
  const wrong = await fetch(`${base}/api/v1/mesh/status`, { headers: { authorization: 'Bearer wrong' } });
  t.equal(wrong.status, 401, 'wrong token');
  t.equal(wrong.headers.get('www-authenticate'), 'Bearer realm="portcullis"');
  const status = await fetch(`${base}/api/v1/mesh/status`, { headers: { authorization: `Bearer ${token}` } });
  t.equal(status.status, 200);
  t.match(await status.json(), { mode: 'standalone', ready: true, bundles: [{ name: 'builtin', revision: /^sha256-/, failures: 0 }], certificate: { notAfter: /^\d{4}-/ }, audit: { sinks: [{ name: 'stdout', healthy: true }] } });

  const bad = await fetch(`${base}/api/v1/observability/logs?limit=0`, { headers: { authorization: `Bearer ${token}` } });
  t.equal(bad.status, 400, 'malformed query is a 400');
  t.match(await bad.json(), { error: 'bad request', message: /limit/ });

  service.ctx.audit.record({ path: 'portcullis/authz/decision', result: false, bundles: {}, metrics: {}, kind: 'authz', decision: 'deny', authz: { principal: 'p', method: 'GET', path: '/', status: 403, reason: 'no-rule', allowed: false, transport: 'http' } });
  service.ctx.audit.record({ path: 'portcullis/admission/violations', result: [], bundles: {}, metrics: {}, kind: 'admission', decision: 'allow' });
  await service.ctx.audit.flush();
  const logs = await fetch(`${base}/api/v1/observability/logs?kind=authz&decision=deny`, { headers: { authorization: `Bearer ${token}` } });
  const body = (await logs.json()) as { events: Array<{ kind: string }> };
  t.equal(body.events.length, 1);
  t.equal(body.events[0]?.kind, 'authz');
  t.ok(lines.some((l) => l.includes('"msg":"bundle activated"')), 'the service log is on stdout');
  t.ok(lines.some((l) => l.includes('"decision_id"') && l.includes('"kind":"authz"')), 'audit events are on the same stdout');
  t.notOk(lines.some((l) => l.includes(token)), 'the admin token never reaches the log');
});

t.test('graceful stop: readiness fails first, then the admin port closes', async (t) => {
  const { service, base } = await start(t);
  const stopping = service.stop({ drainMs: 300 });
  await new Promise((r) => setTimeout(r, 100));
  const during = await fetch(`${base}/readyz`);
  t.equal(during.status, 503);
  t.match(await during.json(), { checks: { draining: true } });
  await stopping;
  await t.rejects(fetch(`${base}/healthz`), 'closed after the drain');
});

t.test('an unusable bundle does not stop start-up: not ready, and the status says why', async (t) => {
  const { base, token } = await start(t, { policy: { bundles: [{ name: 'broken', path: '/nonexistent/bundle.tar.gz' }], readyTimeoutSeconds: 0.2 } });
  const ready = await fetch(`${base}/readyz`);
  t.equal(ready.status, 503);
  const status = (await (await fetch(`${base}/api/v1/mesh/status`, { headers: { authorization: `Bearer ${token}` } })).json()) as { bundles: Array<{ lastError?: string; revision?: string }> };
  t.match(status.bundles[0], { revision: undefined, lastError: /nonexistent/ });
});
