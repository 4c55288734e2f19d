import t from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

t.test('an operator template and values file, re-read when they change', async (t) => {
  const templateFile = join(dir, 'template.yaml');
  const valuesFile = join(dir, 'values.yaml');
  await writeFile(templateFile, TEMPLATE);
  await writeFile(valuesFile, 'greeting: hello\n');
  const h = await startHarness({ namespaces, config: { admission: { injection: { templateFile, valuesFile, values: { proxy: { image: 'ghcr.io/portcullis/proxy:9.9.9' } } } } } });
  t.teardown(() => h.close());

  const ops = injected(await h.post('/mutate', review));
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

  await writeFile(templateFile, 'containers: [{name: portcullis-proxy, image: "{{ values.missing }}"}]\n');
  await new Promise((r) => setTimeout(r, 4500));
  t.equal(proxyOf(injected(await h.post('/mutate', review))).env[1].value, 'bonjour', 'a broken template keeps the previous one');
});

t.test('native sidecar mode through the configuration', async (t) => {
  const h = await startHarness({ namespaces, config: { admission: { injection: { nativeSidecar: true } } } });
  t.teardown(() => h.close());
  const ops = injected(await h.post('/mutate', review));
  const inits = ops.find((o) => o.path === '/spec/initContainers')?.value;
  t.same(inits.map((c: any) => [c.name, c.restartPolicy]), [['portcullis-init', undefined], ['portcullis-proxy', 'Always']]);
  t.notOk(ops.some((o) => o.path === '/spec/containers/-'));
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
