import t from 'tap';
import { AuditLog } from '../../src/audit/log.js';
import type { AuditSink } from '../../src/audit/sinks/sink.js';

/** Keeps what it is given, so the recent events can be compared with the lines really written. */
function memorySink(): AuditSink & { lines: string[] } {
  const lines: string[] = [];
  return { name: 'memory', lines, write: (batch) => void lines.push(...batch), flush: async () => {}, close: async () => {}, health: () => ({ name: 'memory', healthy: true, buffered: 0, dropped: 0 }) };
}

const record = (log: AuditLog, n: number) =>
  log.record({
    path: 'portcullis/authz/decision',
    // Multi-byte text moves every later line's byte offset away from its character offset.
    input: { n, note: n % 3 === 0 ? 'zürich → 東京 🛂' : 'plain' },
    result: { allowed: n % 2 === 0 },
    bundles: { builtin: { revision: 'r1' } },
    metrics: {},
    kind: n % 4 === 0 ? 'admission' : 'authz',
    decision: n % 2 === 0 ? 'allow' : 'deny',
    ...(n % 4 === 0 ? { admission: { rules: [`rule-${n}`], operation: 'CREATE', kind: 'Pod', namespace: 'x', name: 'y', user: 'u', webhook: 'validate', allowed: true } as never } : { authz: { principal: '', method: 'GET', path: '/', status: 200, reason: `reason-${n}`, allowed: true, transport: 'grpc' } as never }),
  });

t.test('recent events are the lines written, newest first, across batches and after the ring wraps', async (t) => {
  const sink = memorySink();
  const log = new AuditLog({ sinks: [sink], labels: { id: 'i1' }, recent: 7 });
  for (let batch = 0; batch < 4; batch++) {
    for (let i = 0; i < 5; i++) record(log, batch * 5 + i);
    await log.flush(); // one batch per flush
  }
  const recent = log.recent({ limit: 100 });
  t.equal(recent.length, 7, 'only the ring size is kept');
  t.same(recent.map((e) => (e.input as { n: number }).n), [19, 18, 17, 16, 15, 14, 13]);
  t.same(recent, sink.lines.slice(-7).reverse().map((l) => JSON.parse(l)), 'each one is its written line, byte for byte');
  t.same(log.recent({ decision: 'deny' }).map((e) => (e.input as { n: number }).n), [19, 17, 15, 13]);
  t.same(log.recent({ kind: 'admission' }).map((e) => (e.input as { n: number }).n), [16]);
  t.same(log.recent({ rule: 'reason-17' }).map((e) => (e.input as { n: number }).n), [17]);
  t.same(log.recent({ limit: 2 }).length, 2);
  await log.close();
});

t.test('recent: 0 keeps nothing', async (t) => {
  const log = new AuditLog({ sinks: [memorySink()], labels: { id: 'i1' }, recent: 0 });
  record(log, 1);
  await log.flush();
  t.same(log.recent(), []);
});
