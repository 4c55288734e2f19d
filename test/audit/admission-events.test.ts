import t from 'tap';
import { REDACTED } from '../../src/audit/mask.js';
import { fixture, startHarness } from '../admission/service.js';

/** What the audit log actually wrote for a decision, read back through the observability API. */
async function writtenEvent(h: Awaited<ReturnType<typeof startHarness>>, decisionId: string): Promise<Record<string, any>> {
  await h.event(decisionId);
  const res = await fetch(`http://127.0.0.1:${h.adminPort}/api/v1/observability/logs?kind=admission&limit=50`, { headers: { authorization: `Bearer ${h.token}` } });
  const { events } = (await res.json()) as { events: Array<Record<string, any>> };
  const found = events.find((e) => e.decision_id === decisionId);
  if (!found) throw new Error(`decision ${decisionId} is not in the recent log`);
  return found;
}

t.test('real admission decisions are logged with Secrets and secret env values masked', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.close());

  const secretReview = await fixture('pod-create-deployment.json');
  secretReview.request.kind = { group: '', version: 'v1', kind: 'Secret' };
  secretReview.request.resource = { group: '', version: 'v1', resource: 'secrets' };
  secretReview.request.requestKind = secretReview.request.kind;
  secretReview.request.name = 'payment-db';
  secretReview.request.object = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'payment-db', namespace: 'payments', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"data":{"password":"aHVudGVyMg=="}}' } },
    data: { password: 'aHVudGVyMg==' },
  };
  const secret = await h.post('/validate', secretReview);
  t.equal(secret.status, 200);
  const secretEvent = await writtenEvent(h, secret.json.response.auditAnnotations['decision-id']);
  t.equal(secretEvent.input.request.object.data, REDACTED);
  t.equal(secretEvent.input.request.object.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'], REDACTED);
  t.notOk(JSON.stringify(secretEvent).includes('aHVudGVyMg'), 'the secret value appears nowhere in the event');
  t.ok(secretEvent.masked.includes('/request/object/data'));

  const podReview = await fixture('pod-create-deployment.json');
  podReview.request.object.spec.containers[0].env.push({ name: 'API_TOKEN', value: 'tok-3f9a77' });
  const pod = await h.post('/validate', podReview);
  const podEvent = await writtenEvent(h, pod.json.response.auditAnnotations['decision-id']);
  const env = podEvent.input.request.object.spec.containers[0].env as Array<{ name: string; value?: string }>;
  t.equal(env.find((e) => e.name === 'API_TOKEN')?.value, REDACTED);
  t.equal(env.find((e) => e.name === 'LEDGER_URL')?.value, 'http://ledger.payments.svc.cluster.local:8080', 'ordinary values are kept');
  t.notOk(JSON.stringify(podEvent).includes('tok-3f9a77'));
  t.match(podEvent, { kind: 'admission', path: 'portcullis/admission/violations', admission: { operation: 'CREATE', namespace: 'payments', webhook: 'validate' }, bundles: { builtin: { revision: /^sha256-/ } } });
});

t.test('managedFields stay out of the policy input and the audit log unless configured otherwise', async (t) => {
  const managedFields = [{ manager: 'kubectl-client-side-apply', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:containers': {} } } }];
  const review = await fixture('pod-create-deployment.json');
  review.request.object.metadata.managedFields = managedFields;

  const dropping = await startHarness();
  t.teardown(() => dropping.close());
  const a = await dropping.post('/validate', structuredClone(review));
  t.equal(a.json.response.allowed, true);
  const dropped = await writtenEvent(dropping, a.json.response.auditAnnotations['decision-id']);
  t.notOk('managedFields' in dropped.input.request.object.metadata, 'dropped by default');
  t.equal(dropped.input.request.object.metadata.labels.app, 'payment-service', 'the rest of the metadata stays');

  const keeping = await startHarness({ config: { admission: { dropManagedFields: false } } });
  t.teardown(() => keeping.close());
  const b = await keeping.post('/validate', structuredClone(review));
  t.equal(b.json.response.allowed, true, 'the same decision either way');
  const kept = await writtenEvent(keeping, b.json.response.auditAnnotations['decision-id']);
  t.same(kept.input.request.object.metadata.managedFields, managedFields, 'kept when configured');
});
