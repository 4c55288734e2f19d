// The Istio attack corpus through the real validating webhook (HTTPS, the service as it runs): every row of
// test/fixtures/attack/istio is a way around a rule that the rule must still refuse, with that rule named in
// the answer: Istio's other spellings (proto field names, enum numbers, older API versions), values of types
// that make Istio drop or misread an object, allow-alls in Istio's own matching syntax, and the kinds that
// change the proxy itself. Their legitimate look-alikes (test/fixtures/allow/istio.json) are allowed.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { startHarness } from '../admission/service.js';
import { loadDenyRows, reviewOf, rowNamespaces, type DenyRow } from '../helpers/deny-rows.js';
import { FIXTURES } from '../helpers/paths.js';

const rows = await loadDenyRows([join(FIXTURES, 'attack', 'istio')]);
const allowed = JSON.parse(await readFile(join(FIXTURES, 'allow', 'istio.json'), 'utf8')) as Array<{ name: string; object: Record<string, unknown> }>;
const asRow = (a: (typeof allowed)[number]): DenyRow => {
  const [group, version] = String(a.object.apiVersion).split('/') as [string, string];
  return { file: 'allow/istio.json', name: a.name, rule: '', object: a.object, operation: 'CREATE', group, version, kind: String(a.object.kind), namespace: 'team', namespaceLabels: {}, username: 'alice@example.com', paths: [] };
};

const h = await startHarness({ namespaces: rowNamespaces(rows) });
t.teardown(() => h.close());

t.test('every variant is refused by its rule', async (t) => {
  const byFile = new Map<string, number>();
  for (const row of rows) {
    await t.test(`${row.file}: ${row.name}`, async (t) => {
      const review = reviewOf(row);
      const reply = await h.post('/validate', review);
      t.equal(reply.status, 200);
      const r = reply.json.response;
      t.equal(r.uid, review.request.uid);
      t.equal(r.allowed, false, 'refused');
      t.equal(r.status?.code, 403, 'by the rules, not as a failure');
      t.match(r.status?.message, new RegExp(`(^|\\(\\d+ rules?\\): |; )${row.rule}: `), `by ${row.rule}`);
      const event = await h.event(r.auditAnnotations['decision-id']);
      t.equal(event.decision, 'deny', 'recorded as a denial');
    });
    byFile.set(row.file, (byFile.get(row.file) ?? 0) + 1);
  }
  t.comment(`Istio attack corpus: ${rows.length} variants refused (${[...byFile].map(([f, n]) => `${f.split('/').pop()} ${n}`).join(', ')})`);
});

t.test('their legitimate look-alikes are allowed', async (t) => {
  for (const a of allowed) {
    const reply = await h.post('/validate', reviewOf(asRow(a)));
    t.equal(reply.json.response.allowed, true, `${a.name}${reply.json.response.status ? `: ${reply.json.response.status.message}` : ''}`);
  }
});
