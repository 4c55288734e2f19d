import t from 'tap';
import { fixture, startHarness } from './service.js';

const h = await startHarness({ namespaces: [{ name: 'payments', labels: { 'portcullis.io/injection': 'enabled' } }] });
t.teardown(() => h.close());
const base = await fixture('pod-create-deployment.json');

t.test('a bare object: mutated as the API server would, then validated, nothing recorded', async (t) => {
  const mark = h.mark();
  const pod = structuredClone(base.request.object);
  pod.metadata.name = 'payment-service-1';
  const reply = await h.api('/mesh/validate', pod);
  t.equal(reply.status, 200);
  const body = reply.json;
  t.equal(body.allowed, true, 'the injected Pod passes rule sidecar-required');
  t.equal(body.mutation.injected, true);
  t.match(body.mutation.reason, /namespace label/);
  t.ok(body.mutation.patch.some((op: any) => op.path === '/spec/containers/-' && op.value.name === 'portcullis-proxy'));
  // Restricted is warned about by default, and the injected init container runs as root: warnings only.
  t.same(body.violations.filter((v: any) => v.enforcement !== 'warn'), [], 'nothing refused');
  t.ok(body.violations.every((v: any) => v.rule.startsWith('pod-security:')), 'the warnings are the Pod Security restricted level');
  t.match(body.bundles, { builtin: /.+/ });
  await h.service.ctx.audit.flush();
  t.equal(h.events.length, mark, 'no audit event: a dry run has no side effects');
});

t.test('violations come back with their enforcement', async (t) => {
  const pod = structuredClone(base.request.object);
  pod.metadata.labels['sidecar.portcullis.io/inject'] = 'false';
  pod.spec.containers[0].securityContext.privileged = true;
  const body = (await h.api('/mesh/validate', pod)).json;
  t.equal(body.allowed, false);
  t.equal(body.mutation.injected, false);
  t.same(body.violations.map((v: any) => v.rule), ['no-privileged', 'sidecar-required']);
  t.match(body.message, /no-privileged: .*sidecar-required: Pod opts out/);
});

t.test('an AdmissionReview is taken as it is', async (t) => {
  const review = await fixture('peerauthentication-permissive.json');
  const body = (await h.api('/mesh/validate', review)).json;
  t.equal(body.allowed, false);
  t.match(body.violations, [{ rule: 'peer-authentication-strict', enforcement: 'deny' }]);
  t.same(body.mutation.patch, []);
});

t.test('malformed requests get 400 with a clear message, a wrong token 401', async (t) => {
  const cases: Array<[unknown, string | undefined, RegExp]> = [
    [undefined, '{not json', /JSON/],
    ['a string', undefined, /Kubernetes object or an AdmissionReview/],
    [{ metadata: { name: 'x' } }, undefined, /needs apiVersion and kind/],
    [{ apiVersion: 'v1', kind: 'Pod', metadata: 'x' }, undefined, /metadata must be an object/],
    [{ ...base, apiVersion: 'admission.k8s.io/v1beta1' }, undefined, /apiVersion must be "admission.k8s.io\/v1"/],
    [{ apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'payments', labels: { 'sidecar.portcullis.io/inject': 'true' } }, spec: { containers: 3 } }, undefined, /./],
  ];
  for (const [body, raw, message] of cases.slice(0, 5)) {
    const reply = await h.api('/mesh/validate', body, raw === undefined ? {} : { raw });
    t.equal(reply.status, 400, JSON.stringify(body ?? raw).slice(0, 60));
    t.match(reply.json.message, message);
  }
  const [badPod] = cases.slice(5);
  const reply = await h.api('/mesh/validate', badPod?.[0]);
  t.equal(reply.status, 200);
  t.equal(reply.json.allowed, false);
  t.match(reply.json.message, /the Pod is malformed: spec.containers must be array/);
  t.equal((await h.api('/mesh/validate', base, { token: 'wrong' })).status, 401);
});
