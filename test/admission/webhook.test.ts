import t from 'tap';
import { request as httpRequest } from 'node:http';
import { fixture, startHarness, podReview as makePodReview, reviewOf } from './service.js';

const h = await startHarness({
  namespaces: [
    { name: 'payments', labels: { 'portcullis.io/injection': 'enabled' } },
    { name: 'plain', labels: {} },
  ],
  config: { policy: { data: { portcullis: { config: { enforcement: { 'required-labels': 'warn', 'no-default-service-account': 'dryrun' } } } } } },
});
t.teardown(() => h.close());

const base = await fixture('pod-create-deployment.json');
const podReview = (namespace: string, edit?: (pod: any) => void, request?: Record<string, unknown>) => makePodReview(base, namespace, edit, request);

t.test('a clean Pod is allowed; the uid is echoed; the decision id links to the audit event', async (t) => {
  const review = podReview('plain');
  const reply = await h.post('/validate', review);
  t.equal(reply.status, 200);
  t.equal(reply.json.apiVersion, 'admission.k8s.io/v1');
  t.equal(reply.json.kind, 'AdmissionReview');
  const r = reply.json.response;
  t.equal(r.uid, review.request.uid);
  t.equal(r.allowed, true);
  t.notOk(r.status);
  t.notOk(r.warnings);
  const event = await h.event(r.auditAnnotations['decision-id']);
  t.equal(event.decision_id, r.auditAnnotations['decision-id']);
  t.match(event, {
    kind: 'admission',
    path: 'portcullis/admission/violations',
    decision: 'allow',
    result: [],
    input: { request: { uid: review.request.uid }, context: { namespace: { name: 'plain' }, cluster: { name: 'standalone', trustDomain: 'cluster.local' } } },
    admission: { uid: review.request.uid, kind: 'Pod', namespace: 'plain', name: 'payment-service-7d9c6b5f4-', operation: 'CREATE', webhook: 'validate', allowed: true, rules: [], dry_run: false },
  });
  t.match(event?.bundles, { builtin: { revision: /.+/ } });
  t.ok((event?.metrics.timer_rego_eval_ns ?? 0) > 0 && (event?.metrics.timer_server_handler_ns ?? 0) >= (event?.metrics.timer_rego_eval_ns ?? 0));
  t.equal((event?.input as any).request.object.spec.containers[0].env[3].valueFrom.secretKeyRef.name, 'payment-db', 'the input is recorded');
});

t.test('a denial names every denying rule with its message', async (t) => {
  const review = podReview('plain', (pod) => {
    pod.spec.hostPID = true;
    pod.spec.containers[0].securityContext.privileged = true;
    pod.spec.containers[0].image = 'docker.io/library/nginx:latest';
  });
  const r = (await h.post('/validate', review)).json.response;
  t.equal(r.allowed, false);
  t.equal(r.status.code, 403);
  t.equal(r.status.reason, 'Forbidden');
  for (const rule of ['no-privileged', 'no-host-namespaces', 'image-registry-allowlist', 'image-tag-pinned']) t.match(r.status.message, `${rule}: `, `lists ${rule}`);
  t.match(r.status.message, /container "payment-service" runs privileged: remove spec.containers\[0\].securityContext.privileged/);
  t.match(r.status.message, /^Portcullis denied the request \(4 rules\)/);
  t.equal(r.auditAnnotations['deny-rules'], 'image-registry-allowlist,image-tag-pinned,no-host-namespaces,no-privileged');
  const event = await h.event(r.auditAnnotations['decision-id']);
  t.equal(event?.decision, 'deny');
  t.same(event?.admission?.rules, ['image-registry-allowlist', 'image-tag-pinned', 'no-host-namespaces', 'no-privileged']);
});

t.test('rule 1 on the validating webhook: a mesh Pod without the sidecar is refused', async (t) => {
  const r = (await h.post('/validate', podReview('payments'))).json.response;
  t.equal(r.allowed, false);
  t.match(r.status.message, /sidecar-required: Pod in mesh namespace "payments" has no "portcullis-proxy" sidecar/);
});

t.test('warn-mode rules answer with warnings prefixed by the rule id; dryrun rules are only recorded', async (t) => {
  const review = podReview('plain', (pod) => {
    delete pod.metadata.labels.version;
    delete pod.spec.serviceAccountName;
  });
  const r = (await h.post('/validate', review)).json.response;
  t.equal(r.allowed, true);
  t.same(r.warnings, ['required-labels: Pod is missing label "version": add it under metadata.labels (e.g. version: v1)']);
  t.equal(r.auditAnnotations['warn-rules'], 'required-labels');
  t.equal(r.auditAnnotations['dryrun-rules'], 'no-default-service-account');
  t.notOk(r.warnings.some((w: string) => w.startsWith('no-default-service-account')), 'dryrun is silent to the client');
  const event = await h.event(r.auditAnnotations['decision-id']);
  t.equal(event?.decision, 'allow');
  t.same(event?.admission?.rules, ['no-default-service-account', 'required-labels']);
  t.match(event?.result, [{ rule: 'no-default-service-account', enforcement: 'dryrun' }, { rule: 'required-labels', enforcement: 'warn' }]);
});

t.test('a dry-run request is evaluated like any other and recorded as dry run', async (t) => {
  const review = podReview('plain', (pod) => (pod.spec.hostIPC = true), { dryRun: true });
  const r = (await h.post('/validate', review)).json.response;
  t.equal(r.allowed, false);
  t.match(r.status.message, /no-host-namespaces/);
  const event = await h.event(r.auditAnnotations['decision-id']);
  t.equal(event?.admission?.dry_run, true);
});

t.test('UPDATE with oldObject, DELETE and CONNECT', async (t) => {
  const update = podReview('plain', () => {}, { operation: 'UPDATE', oldObject: structuredClone(base.request.object), options: { kind: 'UpdateOptions', apiVersion: 'meta.k8s.io/v1' } });
  const u = (await h.post('/validate', update)).json.response;
  t.equal(u.allowed, true, 'an unchanged Pod spec is not judged again');
  const privilegedUpdate = podReview('plain', (pod) => (pod.spec.containers[0].securityContext.privileged = true), { operation: 'UPDATE', oldObject: structuredClone(base.request.object) });
  t.equal((await h.post('/validate', privilegedUpdate)).json.response.allowed, false, 'a changed spec is');

  const policy = {
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name: 'default-deny', namespace: 'payments' },
    spec: {},
  };
  const del = reviewOf({
    uid: 'delete-1',
    kind: { group: 'security.istio.io', version: 'v1', kind: 'AuthorizationPolicy' },
    resource: { group: 'security.istio.io', version: 'v1', resource: 'authorizationpolicies' },
    name: 'default-deny',
    namespace: 'payments',
    operation: 'DELETE',
    userInfo: { username: 'mallory@example.com' },
    object: null,
    oldObject: policy,
    options: { kind: 'DeleteOptions', apiVersion: 'meta.k8s.io/v1' },
  });
  const d = (await h.post('/validate', del)).json.response;
  t.equal(d.uid, 'delete-1');
  t.equal(d.allowed, false);
  t.match(d.status.message, /authorization-policy-default-deny: .*cannot be deleted/);
  const delEvent = await h.event(d.auditAnnotations['decision-id']);
  t.match(delEvent?.admission, { operation: 'DELETE', name: 'default-deny', kind: 'security.istio.io/AuthorizationPolicy' });

  const connect = reviewOf({
    uid: 'connect-1',
    kind: { group: '', version: 'v1', kind: 'PodExecOptions' },
    resource: { group: '', version: 'v1', resource: 'pods' },
    subResource: 'exec',
    name: 'payment-service-abc',
    namespace: 'payments',
    operation: 'CONNECT',
    userInfo: { username: 'alice@example.com' },
    object: { apiVersion: 'v1', kind: 'PodExecOptions', command: ['sh'], stdin: true },
    oldObject: null,
  });
  const c = await h.post('/validate', connect);
  t.equal(c.json.response.uid, 'connect-1');
  t.equal(c.json.response.allowed, true);
  const m = await h.post('/mutate', connect);
  t.equal(m.json.response.allowed, true);
  t.notOk(m.json.response.patch, 'nothing to patch on CONNECT');
});

t.test('Istio resources: a PERMISSIVE PeerAuthentication is refused with the rule message', async (t) => {
  const review = await fixture('peerauthentication-permissive.json');
  const r = (await h.post('/validate', review)).json.response;
  t.equal(r.allowed, false);
  t.match(r.status.message, /peer-authentication-strict: .*STRICT/);
});

t.test('a kind no rule knows is allowed and recorded', async (t) => {
  const review = reviewOf({
    uid: 'widget-1',
    kind: { group: 'example.com', version: 'v1', kind: 'Widget' },
    resource: { group: 'example.com', version: 'v1', resource: 'widgets' },
    namespace: 'plain',
    operation: 'CREATE',
    userInfo: { username: 'alice' },
    object: { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { anything: true } },
  });
  const r = (await h.post('/validate', review)).json.response;
  t.equal(r.allowed, true);
  const event = await h.event(r.auditAnnotations['decision-id']);
  t.match(event?.admission, { uid: 'widget-1', kind: 'example.com/Widget', allowed: true });
});

t.test('metrics count decisions, rule hits, evaluations and requests', async (t) => {
  const text = await new Promise<string>((resolve, reject) => {
    httpRequest({ host: '127.0.0.1', port: h.adminPort, path: '/metrics' }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(body));
    })
      .on('error', reject)
      .end();
  });
  const value = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
  t.ok(value(/portcullis_decisions_total\{front_door="admission",result="deny",via="validate"\} (\d+)/) >= 4);
  t.ok(value(/portcullis_decisions_total\{front_door="admission",result="allow",via="validate"\} (\d+)/) >= 3);
  t.ok(value(/portcullis_admission_rule_hits_total\{rule="required-labels",enforcement="warn"\} (\d+)/) >= 1);
  t.ok(value(/portcullis_admission_rule_hits_total\{rule="no-default-service-account",enforcement="dryrun"\} (\d+)/) >= 1);
  t.ok(value(/portcullis_policy_evaluation_duration_seconds_count\{entrypoint="portcullis\/admission\/violations"\} (\d+)/) >= 8);
  t.ok(value(/portcullis_request_duration_seconds_count\{front_door="admission",via="validate"\} (\d+)/) >= 8);
});

t.test('probes', async (t) => {
  t.same((await h.get('/healthz')).json, { status: 'ok' });
  await h.ready();
  const ready = await h.get('/readyz');
  t.equal(ready.status, 200);
  t.same(ready.json.checks, { bundle: true, certificate: true, template: true, workers: true, draining: false });
});
