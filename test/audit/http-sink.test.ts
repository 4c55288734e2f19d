import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import t from 'tap';
import { AuditLog } from '../../src/audit/log.js';
import { HttpSink } from '../../src/audit/sinks/http.js';
import { verifyLines } from '../../src/audit/verify.js';

type Mode = 'ok' | 'fail' | 'slow';

/** An OPA-compatible decision log service on loopback whose behaviour the test switches. */
async function logService() {
  const received: string[] = [];
  const state = { mode: 'ok' as Mode, requests: 0, encodings: new Set<string>(), maxBody: 0 };
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      state.requests++;
      const body = Buffer.concat(chunks);
      state.maxBody = Math.max(state.maxBody, body.length);
      state.encodings.add(String(req.headers['content-encoding']));
      if (state.mode === 'fail') {
        res.writeHead(503).end();
        return;
      }
      const respond = () => {
        const events = JSON.parse(gunzipSync(body).toString('utf8')) as unknown[];
        for (const e of events) received.push(JSON.stringify(e));
        res.writeHead(200).end();
      };
      if (state.mode === 'slow') setTimeout(respond, 300);
      else respond();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/logs`;
  return { url, received, state, close: () => new Promise<void>((r) => server.close(() => r())) };
}

function record(log: AuditLog, i: number): void {
  log.record({ path: 'portcullis/authz/decision', input: { i, pad: 'x'.repeat(200) }, result: true, bundles: {}, metrics: {}, kind: 'authz', decision: 'allow' });
}

t.test('uploads gzip JSON arrays in batches; failures, slowness and recovery lose nothing while the buffer has room', async (t) => {
  const svc = await logService();
  t.teardown(svc.close);
  const sink = new HttpSink({ url: svc.url, maxBatchBytes: 2048, minDelayMs: 20, maxDelayMs: 40, maxBufferEvents: 1000, timeoutMs: 2000 });
  const log = new AuditLog({ sinks: [sink], labels: { id: 'i1' } });

  for (let i = 0; i < 100; i++) record(log, i);
  await new Promise((r) => setTimeout(r, 300));
  t.equal(svc.received.length, 100, 'all events arrive');
  t.ok(svc.state.requests > 1, `sent in ${svc.state.requests} batches`);
  t.ok(svc.state.maxBody <= 2048, `no upload over the size limit (largest ${svc.state.maxBody} bytes)`);
  t.same([...svc.state.encodings], ['gzip']);

  svc.state.mode = 'fail';
  const start = performance.now();
  for (let i = 100; i < 300; i++) record(log, i);
  t.ok(performance.now() - start < 50, 'recording never waits for the sink');
  await new Promise((r) => setTimeout(r, 400));
  const health = sink.health();
  t.notOk(health.healthy, 'unhealthy while the service fails');
  t.match(health.lastError, /answered 503/);
  t.equal(health.buffered, 200, 'failed events stay buffered');

  svc.state.mode = 'slow';
  await new Promise((r) => setTimeout(r, 100));
  for (let i = 300; i < 350; i++) record(log, i);
  svc.state.mode = 'ok';
  await new Promise((r) => setTimeout(r, 3000));
  t.equal(svc.received.length, 350, 'everything arrives after recovery');
  t.equal(sink.health().dropped, 0);
  t.ok(sink.health().healthy);
  t.same(verifyLines([{ source: 'service', lines: svc.received }]), { events: 350, chains: 1, skipped: 0 }, 'in order and unaltered');
  await log.close();
});

t.test('a full buffer drops the oldest events and counts them', async (t) => {
  const svc = await logService();
  t.teardown(svc.close);
  svc.state.mode = 'fail';
  const drops: number[] = [];
  const sink = new HttpSink({ url: svc.url, maxBatchBytes: 4096, minDelayMs: 20, maxDelayMs: 40, maxBufferEvents: 50, timeoutMs: 500, onDrop: (n) => drops.push(n) });
  const log = new AuditLog({ sinks: [sink], labels: { id: 'i2' } });
  for (let i = 0; i < 80; i++) record(log, i);
  await log.flush();
  t.equal(sink.health().dropped, 30);
  t.equal(sink.health().buffered, 50);
  t.equal(drops.reduce((a, b) => a + b, 0), 30, 'the drop callback (a log line) is told');
  svc.state.mode = 'ok';
  await sink.flush();
  t.equal(svc.received.length, 50);
  t.equal(JSON.parse(svc.received[0] as string).input.i, 30, 'the oldest were dropped, the newest kept');
  await log.close();
});
