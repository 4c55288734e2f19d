import t from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fastJsonPatch from 'fast-json-patch';
import { fixture, patchOf, startHarness } from './service.js';

const dir = await mkdtemp(join(tmpdir(), 'portcullis-template-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const review = await fixture('pod-create-deployment.json');
const namespaces = [{ name: 'payments', labels: { 'portcullis.io/injection': 'enabled' } }];

const TEMPLATE = `
containers:
  - name: portcullis-proxy
    image: "{{ values.proxy.image }}"
    env:
      - {name: IDENTITY, value: "{{ identity.spiffeId }}"}
      - {name: GREETING, value: "{{ values.greeting }}"}
volumes:
  - name: portcullis-certs
    emptyDir: {}
`;

const injected = (reply: { json: any }) => patchOf(reply.json.response);
const proxyOf = (ops: Array<{ path: string; value?: any }>) => ops.find((o) => o.value?.name === 'portcullis-proxy')?.value;
/** The review of the Pod as the first answer left it: what a reinvocation sends. */
const reinvocation = (reply: { json: any }) => {
  const again = structuredClone(review);
  again.request.object = fastJsonPatch.applyPatch(structuredClone(review.request.object), injected(reply) as fastJsonPatch.Operation[], true, false).newDocument;
  return again;
};

t.test('an operator template and values file, re-read when they change', async (t) => {
  const templateFile = join(dir, 'template.yaml');
  const valuesFile = join(dir, 'values.yaml');
  await writeFile(templateFile, TEMPLATE);
  await writeFile(valuesFile, 'greeting: hello\n');
  const h = await startHarness({ namespaces, config: { admission: { injection: { templateFile, valuesFile, values: { proxy: { image: 'ghcr.io/portcullis/proxy:9.9.9' } } } } } });
  t.teardown(() => h.close());

  const hello = await h.post('/mutate', review);
  const ops = injected(hello);
  t.notOk(ops.some((o) => o.path.startsWith('/spec/initContainers')), 'this template has no init container');
  const proxy = proxyOf(ops);
  t.equal(proxy.image, 'ghcr.io/portcullis/proxy:9.9.9', 'inline values');
  t.same(proxy.env, [
    { name: 'IDENTITY', value: 'spiffe://cluster.local/ns/payments/sa/payment-service' },
    { name: 'GREETING', value: 'hello' },
  ]);

  await writeFile(valuesFile, 'greeting: bonjour\n');
  let greeting = 'hello';
  for (let i = 0; i < 60 && greeting !== 'bonjour'; i++) {
    await new Promise((r) => setTimeout(r, 200));
    greeting = proxyOf(injected(await h.post('/mutate', review))).env[1].value;
  }
  t.equal(greeting, 'bonjour', 'a changed values file is picked up');
  const again = (await h.post('/mutate', reinvocation(hello))).json.response;
  t.equal(again.allowed, true, `a Pod injected with the template before the reload is still recognised: ${again.status?.message ?? ''}`);
  t.notOk(again.patch);

  await writeFile(valuesFile, 'greeting: hola\n');
  for (let i = 0; i < 60 && greeting !== 'hola'; i++) {
    await new Promise((r) => setTimeout(r, 200));
    greeting = proxyOf(injected(await h.post('/mutate', review))).env[1].value;
  }
  const stale = (await h.post('/mutate', reinvocation(hello))).json.response;
  t.equal(stale.allowed, false, 'two templates back, the claim cannot be checked');
  t.match(stale.status.message, /names sidecar template "[0-9a-f]{12}", not one this injector has/);

  await writeFile(templateFile, 'containers: [{name: portcullis-proxy, image: "{{ values.missing }}"}]\n');
  await new Promise((r) => setTimeout(r, 4500));
  t.equal(proxyOf(injected(await h.post('/mutate', review))).env[1].value, 'hola', 'a broken template keeps the previous one');
});

t.test('native sidecar mode through the configuration', async (t) => {
  const h = await startHarness({ namespaces, config: { admission: { injection: { nativeSidecar: true } } } });
  t.teardown(() => h.close());
  const ops = injected(await h.post('/mutate', review));
  const inits = ops.find((o) => o.path === '/spec/initContainers')?.value;
  t.same(inits.map((c: any) => [c.name, c.restartPolicy]), [['portcullis-init', undefined], ['portcullis-proxy', 'Always']]);
  t.notOk(ops.some((o) => o.path === '/spec/containers/-'));
  const reply = await h.post('/mutate', review);
  const again = (await h.post('/mutate', reinvocation(reply))).json.response;
  t.equal(again.allowed, true, `a native sidecar is recognised on reinvocation: ${again.status?.message ?? ''}`);
  t.notOk(again.patch);
});

t.test('a template that does not load stops start-up with the reason', async (t) => {
  const templateFile = join(dir, 'bad.yaml');
  await writeFile(templateFile, 'containers: [{name: portcullis-proxy, image: "{{ values.proxy.nope }}"}]\n');
  await t.rejects(startHarness({ config: { admission: { injection: { templateFile } } } }), /unknown placeholder \{\{ values.proxy.nope \}\}/);
});

t.test('injection can be switched off', async (t) => {
  const h = await startHarness({ namespaces, config: { admission: { injection: { enabled: false } } } });
  t.teardown(() => h.close());
  const r = (await h.post('/mutate', review)).json.response;
  t.equal(r.allowed, true);
  t.notOk(r.patch);
  t.match(r.auditAnnotations['injection-reason'], /disabled/);
});
