import t from 'tap';
import { checkLimits, type ReviewLimits } from '../../src/admission/limits.js';
import { scanJson } from '../../src/admission/json-scan.js';
import { cheapEnoughInline } from '../../src/admission/inline-gate.js';
import { findRequestUid } from '../../src/admission/request-uid.js';
import { parseReview, ReviewError, type AdmissionRequest } from '../../src/admission/review.js';
import { parseConfig } from '../../src/server/config.js';
import { pod, SHAPES, sized } from '../helpers/large-reviews.js';
import { podReview, fixture, startHarness } from './service.js';

const defaults: ReviewLimits = parseConfig({}).admission.limits;
const small: ReviewLimits = { maxMembers: 1000, maxListItems: 100, maxObjectKeys: 100, maxStringBytes: 4096, maxContainers: 10 };
const requestOf = (review: { request: unknown }) => parseReview(review) as AdmissionRequest;
const refusal = (review: { request: unknown }, limits = small) => {
  try {
    checkLimits(requestOf(review), limits);
  } catch (err) {
    if (err instanceof ReviewError) return err;
    throw err;
  }
  return undefined;
};

t.test('each bound is refused with the field, the count and the setting, as 413 in kind', async (t) => {
  const cases: Array<[string, (r: ReturnType<typeof pod>) => void, RegExp]> = [
    ['a long list', (r) => (r.request.object.spec.containers[0].env = Array.from({ length: 101 }, (_, i) => ({ name: `V${i}` }))), /^request\.object\.spec\.containers\[0\]\.env has 101 items, more than 100 \(admission\.limits\.maxListItems\)$/],
    ['a wide object', (r) => Object.assign(r.request.object.metadata.labels, Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, 'v']))), /^request\.object\.metadata\.labels has 103 members, more than 100 \(admission\.limits\.maxObjectKeys\)$/],
    ['a long string', (r) => (r.request.object.metadata.annotations.note = 'é'.repeat(2049)), /^request\.object\.metadata\.annotations\.note is a string longer than 4096 bytes \(admission\.limits\.maxStringBytes\)$/],
    ['a long key', (r) => (r.request.object.metadata.annotations['k'.repeat(4097)] = 'v'), /^request\.object\.metadata\.annotations\["k{61}\.\.\."\] is a key longer than 4096 bytes/],
    ['many containers', (r) => (r.request.object.spec.initContainers = Array.from({ length: 10 }, (_, i) => ({ name: `i${i}`, image: 'x' }))), /^request\.object\.spec has 11 containers, init containers and ephemeral containers, more than 10 \(admission\.limits\.maxContainers\)$/],
    ['a long traffic list', (r) => (r.request.object.metadata.annotations['traffic.portcullis.io/excludeInboundPorts'] = Array.from({ length: 101 }, (_, i) => i + 1).join(',')), /excludeInboundPorts"\] lists 101 items, more than 100 \(admission\.limits\.maxListItems\)$/],
    ['many members', (r) => (r.request.object.spec.containers[0].env = Array.from({ length: 99 }, (_, i) => ({ name: `V${i}`, value: 'x', extra: [1, 2, 3, 4, 5, 6, 7, 8] }))), /takes the request past 1000 array elements and object members \(admission\.limits\.maxMembers\)$/],
  ];
  for (const [name, edit, message] of cases) {
    const review = pod();
    edit(review);
    const err = refusal(review);
    t.match(err?.message, message, name);
    t.same(err?.status, { code: 413, reason: 'RequestEntityTooLarge' }, `${name}: 413`);
    t.equal(err?.uid, review.request.uid, `${name}: answered in kind`);
  }
});

t.test('text that is not Unicode is refused, naming where it is', async (t) => {
  const value = pod();
  value.request.object.metadata.labels.app = 'web\ud800';
  t.match(refusal(value, defaults), { message: /^request\.object\.metadata\.labels\.app is a string that is not valid Unicode: it holds a lone UTF-16 surrogate \(\\ud800\)/, status: undefined });
  const key = pod();
  key.request.object.metadata.labels['\udc01x'] = 'v';
  t.match(refusal(key, defaults)?.message, /^request\.object\.metadata\.labels\["\\udc01x"\] is a key that is not valid Unicode: .*\(\\udc01\)/);
  const pair = pod();
  pair.request.object.metadata.labels.app = 'ok \u{1F6C2} 東京';
  t.equal(refusal(pair, defaults), undefined, 'surrogate pairs are text');
});

t.test('the defaults leave real objects alone, and the nesting is walked without recursion', async (t) => {
  t.equal(refusal(pod(), defaults), undefined);
  t.equal(refusal(await fixture('peerauthentication-permissive.json'), defaults), undefined);
  const deep = pod();
  let x: unknown = 1;
  for (let i = 0; i < 100_000; i++) x = [x];
  deep.request.object.spec.extra = x;
  t.equal(refusal(deep, { ...defaults, maxMembers: 1_000_000 }), undefined, 'no stack overflow');
});

t.test('nesting past admission.maxJsonDepth is refused with the uid, counting the review and its request as two levels', async (t) => {
  const nested = (levels: number) => {
    const review = pod();
    let x: unknown = 1;
    for (let i = 0; i < levels; i++) x = i % 2 ? [x] : { a: x };
    review.request.object.spec.extra = x;
    return requestOf(review);
  };
  // review > request > object > spec: four levels before `extra`.
  const depth = (request: AdmissionRequest, limit: number) => () => checkLimits(request, defaults, limit);
  t.doesNotThrow(depth(nested(28), 32));
  t.throws(depth(nested(29), 32), { message: 'the body nests objects and arrays deeper than 32 levels (admission.maxJsonDepth)', uid: pod().request.uid });
  t.throws(depth(nested(100_000), 256), /deeper than 256 levels/, 'found on the way down, without recursion');
  t.doesNotThrow(depth(requestOf(pod()), 32), 'a real review is a dozen levels deep');
});

t.test('the byte scan counts members and the longest string as JSON.parse would see them', async (t) => {
  const scan = (s: string) => scanJson(new TextEncoder().encode(s));
  t.same(scan('{}'), { members: 0, longestString: 0 });
  t.same(scan('[ ]'), { members: 0, longestString: 0 });
  t.same(scan('[1]'), { members: 1, longestString: 0 });
  t.same(scan('{"a": [1, 2, {"b": "xyz"}], "c": {}}'), { members: 6, longestString: 3 });
  t.same(scan('["a,b,[{", "\\"]"]'), { members: 2, longestString: 6 }, 'commas, brackets and escaped quotes inside strings');
  const body = Buffer.from(JSON.stringify(pod()));
  const json = JSON.parse(body.toString());
  let members = 0;
  const count = (v: unknown): void => {
    if (Array.isArray(v)) (members += v.length), v.forEach(count);
    else if (v && typeof v === 'object') (members += Object.keys(v).length), Object.values(v).forEach(count);
  };
  count(json);
  t.equal(scanJson(body).members, members, 'the fixture review');
});

t.test('what may be decided on the main thread', async (t) => {
  t.ok(cheapEnoughInline(Buffer.from(JSON.stringify(pod()))), 'the fixture Pod');
  for (const shape of SHAPES) {
    const { review } = sized(shape, 30 * 1024);
    t.notOk(cheapEnoughInline(Buffer.from(JSON.stringify(review))), `${shape.name} at 30 KiB goes to a worker`);
  }
  const long = pod();
  long.request.object.metadata.annotations.note = 'x'.repeat(2000);
  t.notOk(cheapEnoughInline(Buffer.from(JSON.stringify(long))), 'a long string goes to a worker');
});

t.test('the uid is read from the bytes, wherever it is in the review', async (t) => {
  const uid = (v: unknown) => findRequestUid(Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)));
  t.equal(uid(pod()), pod().request.uid);
  t.equal(uid({ request: { object: { metadata: { uid: 'inner' } }, kind: { uid: 'no' }, uid: 'outer' } }), 'outer', 'not a nested uid');
  t.equal(uid({ kind: 'AdmissionReview', uid: 'top', request: { uid: 'r\\"1' } }), 'r\\"1', 'escapes decoded');
  t.equal(uid({ request: { uid: 7 } }), undefined, 'not a string');
  t.equal(uid({ response: { uid: 'x' } }), undefined, 'only request.uid');
  t.equal(uid('{"request": {"uid": "unterminated'), undefined, 'broken JSON');
  t.equal(uid('[{"request": {"uid": "in an array"}}]'), undefined);
});

t.test('over HTTPS: a review past a bound is denied in kind with the reason, a lone surrogate too', async (t) => {
  const h = await startHarness({ config: { admission: { limits: { maxListItems: 100 } } } });
  t.teardown(() => h.close());
  await h.ready();
  const base = await fixture('pod-create-deployment.json');
  const long = podReview(base, 'plain', (p) => (p.spec.containers[0].securityContext.capabilities = { add: Array.from({ length: 5000 }, (_, i) => `CAP_${i}`) }));
  const mark = h.mark();
  const r = await h.post('/validate', long);
  t.match(r.json.response, {
    uid: long.request.uid,
    allowed: false,
    status: { code: 413, reason: 'RequestEntityTooLarge', message: 'request.object.spec.containers[0].securityContext.capabilities.add has 5000 items, more than 100 (admission.limits.maxListItems)' },
  });
  const [event] = await h.eventsSince(mark);
  t.match(event, { decision: 'error', error: /capabilities\.add has 5000 items/, admission: { uid: long.request.uid } });
  const lone = podReview(base, 'plain', (p) => (p.spec.containers[0].name = 'app\ud800'));
  const s = await h.post('/validate', lone);
  t.match(s.json.response, { uid: lone.request.uid, allowed: false, status: { code: 400, message: /^request\.object\.spec\.containers\[0\]\.name is a string that is not valid Unicode: it holds a lone UTF-16 surrogate \(\\ud800\)/ } });
  t.notMatch(s.body, /violations: undefined/);
});
