import t from 'tap';
import { parseReview, ReviewError } from '../../src/admission/review.js';
import { fixture } from './service.js';

const base = await fixture('pod-create-deployment.json');

const failsWith = (doc: unknown, pattern: RegExp, uid?: string) => {
  try {
    parseReview(doc);
  } catch (err) {
    t.ok(err instanceof ReviewError, 'a ReviewError');
    t.match((err as Error).message, pattern);
    t.equal((err as ReviewError).uid, uid, uid ? 'keeps the uid so the API server can be answered' : 'no uid to answer with');
    return;
  }
  t.fail(`accepted ${JSON.stringify(doc).slice(0, 80)}`);
};

t.test('a well-formed review is returned typed, untouched', async (t) => {
  const request = parseReview(structuredClone(base));
  t.equal(request.uid, base.request.uid);
  t.equal(request.operation, 'CREATE');
  t.same(request.object, base.request.object);
});

t.test('envelope problems have no uid to answer with', async () => {
  failsWith(null, /JSON object/);
  failsWith([base], /JSON object/);
  failsWith({ ...base, kind: 'AdmissionRequest' }, /kind must be "AdmissionReview", got "AdmissionRequest"/);
  failsWith({ ...base, apiVersion: 'admission.k8s.io/v1beta1' }, /apiVersion must be "admission.k8s.io\/v1", got "admission.k8s.io\/v1beta1".*admissionReviewVersions/);
  failsWith({ apiVersion: base.apiVersion, kind: base.kind }, /request is missing/);
  failsWith({ ...base, request: { ...base.request, uid: undefined } }, /request.uid is missing/);
  failsWith({ ...base, request: { ...base.request, uid: '' } }, /request.uid is missing/);
});

t.test('request problems keep the uid', async () => {
  const uid = base.request.uid as string;
  failsWith({ ...base, request: { ...base.request, operation: 'PATCH' } }, /operation must be equal to one of the allowed values/, uid);
  failsWith({ ...base, request: { ...base.request, kind: { group: '', version: 'v1' } } }, /kind must have required property 'kind'/, uid);
  failsWith({ ...base, request: { ...base.request, userInfo: { username: 7 } } }, /userInfo.username must be string/, uid);
  failsWith({ ...base, request: { ...base.request, object: 'a pod' } }, /object must be object/, uid);
  failsWith({ ...base, request: { ...base.request, object: null } }, /request.object is missing: a CREATE carries the object/, uid);
  failsWith({ ...base, request: { ...base.request, object: { ...base.request.object, kind: 'Service' } } }, /has kind "Service" but request.kind says "Pod"/, uid);
});

t.test('DELETE and CONNECT need no object', async (t) => {
  const del = parseReview({ ...base, request: { ...base.request, operation: 'DELETE', object: null, oldObject: base.request.object } });
  t.equal(del.operation, 'DELETE');
  const connect = parseReview({
    ...base,
    request: { ...base.request, operation: 'CONNECT', subResource: 'exec', object: { apiVersion: 'v1', kind: 'PodExecOptions', command: ['sh'] } },
  });
  t.equal(connect.subResource, 'exec');
});
