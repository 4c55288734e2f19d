import t, { type Test } from 'tap';
import { fixture, startHarness, type PostOptions } from './service.js';

const h = await startHarness({ config: { admission: { maxBodyBytes: 64 * 1024 } } });
t.teardown(() => h.close());
const base = await fixture('pod-create-deployment.json');

/** A plain 400 (nothing to answer an AdmissionReview with) and an audit event with the error. */
const plain400 = async (t: Test, path: string, body: unknown, message: RegExp, options: PostOptions = {}, status = 400) => {
  const mark = h.mark();
  const reply = await h.post(path, body, options);
  t.equal(reply.status, status);
  t.equal(reply.json?.error, { 400: 'bad request', 413: 'payload too large', 415: 'unsupported media type' }[status]);
  t.match(reply.json?.message, message);
  const [event] = await h.eventsSince(mark);
  t.match(event, { kind: 'admission', decision: 'error', error: message, admission: { webhook: path.slice(1), allowed: false } });
};

t.test('bodies that are not an AdmissionReview get a clear 400 and an audit event', async (t) => {
  await plain400(t, '/validate', undefined, /not valid JSON: .*position/, { raw: '{"apiVersion": "admission.k8s.io/v1", ' });
  await plain400(t, '/mutate', undefined, /not valid JSON/, { raw: '' });
  await plain400(t, '/validate', [1, 2], /must be a JSON object/);
  await plain400(t, '/validate', { ...base, apiVersion: 'admission.k8s.io/v1beta1' }, /apiVersion must be "admission.k8s.io\/v1"/);
  await plain400(t, '/mutate', { ...base, kind: 'Pod' }, /kind must be "AdmissionReview", got "Pod"/);
  await plain400(t, '/validate', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }, /request is missing/);
  await plain400(t, '/validate', { ...base, request: { ...base.request, uid: undefined } }, /request.uid is missing/);
  await plain400(t, '/validate', undefined, /content-type "text\/plain" is not supported/, { raw: 'hello', contentType: 'text/plain' }, 415);
});

t.test('a body over the limit is refused before it is read whole', async (t) => {
  const huge = structuredClone(base);
  huge.request.object.metadata.annotations.big = 'x'.repeat(100 * 1024);
  await plain400(t, '/validate', huge, /larger than the limit of 65536 bytes \(admission.maxBodyBytes\)/, {}, 413);
  // Without a content-length the limit can only be found while reading: the same answer, the same event.
  await plain400(t, '/mutate', huge, /larger than the limit of 65536 bytes \(admission.maxBodyBytes\)/, { chunked: true }, 413);
});

t.test('a review nested deeper than admission.maxJsonDepth is denied in kind before anything walks it', async (t) => {
  // JSON.parse copes with any depth (V8's parser is iterative); the recursive walks after it (audit masking,
  // serializing, the policy's parser) did not, so the limits walk refuses it first, with the uid known.
  const review = (x: string) => `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":${JSON.stringify({ ...base.request, x: 0 }).replace('"x":0', `"x":${x}`)}}`;
  const arrays = (n: number) => '['.repeat(n) + ']'.repeat(n);
  const objects = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
  const message = /the body nests objects and arrays deeper than 256 levels \(admission.maxJsonDepth\)/;
  const refused = async (path: string, raw: string) => {
    const reply = await h.post(path, undefined, { raw });
    t.equal(reply.status, 200);
    const r = reply.json.response;
    t.equal(r.uid, base.request.uid);
    t.equal(r.allowed, false);
    t.match(r.status, { code: 400, reason: 'BadRequest', message });
    t.match(await h.event(r.auditAnnotations['decision-id']), { decision: 'error', error: message, admission: { uid: base.request.uid, webhook: path.slice(1) } });
  };
  await refused('/validate', review(arrays(6000)));
  await refused('/mutate', review(objects(6000)));
  // The review and its request are two levels: 254 more make 256, the limit, one more is over it.
  await refused('/validate', review(arrays(255)));
  for (const raw of [review(objects(254)), review(arrays(254))]) {
    const r = (await h.post('/validate', undefined, { raw })).json?.response;
    t.equal(r?.uid, base.request.uid);
    t.notMatch(r?.status?.message ?? '', message, 'at the limit: decided');
  }
  // Brackets inside strings are text, not nesting, escaped quotes included.
  const text = structuredClone(base);
  text.request.object.metadata.annotations.brackets = '[{'.repeat(5000) + '\\"[';
  t.equal((await h.post('/validate', text)).json?.response?.uid, base.request.uid, 'brackets in a string');
});

t.test('a review with a uid but a malformed request is denied in kind, so the API server shows why', async (t) => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ operation: 'PATCH' }, /request.operation must be equal to one of the allowed values/],
    [{ kind: { group: '', version: 'v1' } }, /request.kind must have required property 'kind'/],
    [{ object: { ...base.request.object, kind: 'Secret' } }, /request.object has kind "Secret" but request.kind says "Pod"/],
    [{ object: null }, /request.object is missing: a CREATE carries the object/],
    [{ userInfo: 'root' }, /request.userInfo must be object/],
  ];
  for (const [change, message] of cases) {
    for (const path of ['/validate', '/mutate']) {
      const review = { ...base, request: { ...base.request, ...change } };
      const reply = await h.post(path, review);
      t.equal(reply.status, 200);
      const r = reply.json.response;
      t.equal(r.uid, base.request.uid);
      t.equal(r.allowed, false);
      t.match(r.status, { code: 400, reason: 'BadRequest', message });
      const event = await h.event(r.auditAnnotations['decision-id']);
      t.match(event, { decision: 'error', error: message, result: { uid: base.request.uid }, admission: { uid: base.request.uid, webhook: path.slice(1) } });
    }
  }
});

t.test('a Pod whose shape is wrong is refused by the injector, not crashed on', async (t) => {
  const review = structuredClone(base);
  review.request.object.metadata.labels['sidecar.portcullis.io/inject'] = 'true';
  review.request.object.spec.containers = { name: 'app' };
  const r = (await h.post('/mutate', review)).json.response;
  t.equal(r.allowed, false);
  t.match(r.status.message, /the Pod is malformed: spec.containers must be array/);
});

t.test('the service is still healthy after all of it', async (t) => {
  t.equal((await h.get('/healthz')).status, 200);
  const ok = (await h.post('/validate', base)).json.response;
  t.equal(ok.uid, base.request.uid);
  t.equal((await h.get('/nowhere')).status, 404);
});
