// Escape to the node, tried as an attacker would: every row of test/fixtures/attack/node-escape/ (host
// paths, host ports, seccomp and AppArmor turned off, an unmasked /proc, privilege escalation, root) at every
// site it can be written (the Pod, each kind of container, the metadata) and as every kind that carries a
// Pod, sent through the real webhooks of a real API server. Each must be refused with the rule the row names
// where restricted is enforced, and where Portcullis' defaults hold (baseline enforced, restricted warned)
// refused by the baseline rule or answered with the restricted rule's warning. What is legitimate (the
// shipped fixture, the injected Pod, the seed's Istio examples) still gets in.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type V1Container, type V1Pod } from '@kubernetes/client-node';
import t from 'tap';
import { parse as parseYaml } from 'yaml';
import { InformerFacts } from '../../src/kube/facts.js';
import { loadKubeConfig, sharedControlPlane } from '../helpers/controlplane.js';
import { installCrds } from '../helpers/kube-crds.js';
import { dryRunClient } from '../helpers/kube-dry-run.js';
import { proxies, refusal } from '../helpers/kube-pods.js';
import { registerWebhook, shippedWebhook } from '../helpers/kube-webhooks.js';
import { FIXTURES } from '../helpers/paths.js';
import { asKind, collectionPath, POD_BEARING_KINDS } from '../helpers/workloads.js';
import { startHarness } from '../admission/service.js';

t.setTimeout(600_000);

type ContainerSite = 'containers' | 'initContainers' | 'sidecar' | 'ephemeral';
const CONTAINER_SITES: ContainerSite[] = ['containers', 'initContainers', 'sidecar', 'ephemeral'];

interface Row {
  name: string;
  site: 'pod' | 'metadata' | 'container';
  containers?: ContainerSite[];
  /** Merged into the Pod spec too (what the API server needs beside the attack, e.g. hostUsers: false). */
  pod?: Record<string, unknown>;
  set: Record<string, unknown>;
  rule?: string;
}

interface AttackClass {
  file: string;
  class: string;
  baseline?: string;
  restricted: string;
  rows: Row[];
}

const DIR = join(FIXTURES, 'attack', 'node-escape');
const classes: AttackClass[] = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((file) => ({ file, ...(parseYaml(readFileSync(join(DIR, file), 'utf8')) as Omit<AttackClass, 'file'>) }));

const id = randomBytes(4).toString('hex');
const testLabel = 'portcullis.test/node-escape';
const ns = { restricted: `escape-restricted-${id}`, defaults: `escape-defaults-${id}`, mesh: `escape-mesh-${id}` };

const plane = await sharedControlPlane();
const kc = loadKubeConfig(plane);
const core = kc.makeApiClient(CoreV1Api);
const custom = kc.makeApiClient(CustomObjectsApi);
await installCrds(kc);
for (const [key, name] of Object.entries(ns)) {
  await core.createNamespace({ body: { metadata: { name, labels: { [testLabel]: id, ...(key === 'mesh' ? { 'portcullis.io/injection': 'enabled' } : {}) } } } });
}
t.teardown(() => Promise.all(Object.values(ns).map((name) => core.deleteNamespace({ name }).catch(() => undefined))).then(() => undefined));

const silent = { info: () => {}, warn: () => {} };
const facts = new InformerFacts({ kc, resyncMs: 600_000, watchTimeoutSeconds: 60, retryMs: 500, log: silent });
facts.start();
t.teardown(() => facts.stop());
for (let i = 0; Object.values(ns).some((name) => facts.namespace(name)?.labels[testLabel] !== id); i++) {
  if (i > 200) throw new Error('the informer never saw the test namespaces');
  await new Promise((r) => setTimeout(r, 50));
}

// Restricted enforced in one namespace through policy data (no pod-security.kubernetes.io label, so the API
// server's own PodSecurity plugin stays out of the way: every refusal below is Portcullis').
const h = await startHarness({ facts, config: { policy: { data: { portcullis: { config: { podSecurity: { namespaces: [{ names: [ns.restricted], enforce: 'restricted' }] } } } } } } });
t.teardown(() => h.close());

// Verdicts, not latency, are tested here: a busy machine must not turn a slow answer into a refusal.
const manifest = (file: 'validating.yaml' | 'mutating.yaml', path: string) =>
  shippedWebhook(file, { port: h.port, ca: h.ca, path }, { label: testLabel, value: id, suffix: `escape-${id}`, timeoutSeconds: 30 });
const client = await dryRunClient(kc);
t.teardown(() => client.close());

/** A Pod every rule accepts, restricted included: the attack rows are the only thing wrong with it. */
function compliant(name: string): V1Pod {
  const container = (n: string): V1Container => ({ name: n, image: 'registry.example.com/team/app:1.4.2', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } });
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: 'escape', version: 'v1' } },
    spec: {
      serviceAccountName: 'escape',
      automountServiceAccountToken: false,
      securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
      initContainers: [container('init')],
      containers: [container('app')],
    },
  };
}

const validating = await registerWebhook(kc, await manifest('validating.yaml', '/validate'), {
  until: async () => (await client.create(collectionPath('Pod', ns.defaults), { ...compliant('probe'), spec: { ...compliant('probe').spec, hostIPC: true } })).message.includes('no-host-namespaces'),
});
t.teardown(() => validating.remove());
const mutating = await registerWebhook(kc, await manifest('mutating.yaml', '/mutate'), {
  until: async () => proxies((await core.createNamespacedPod({ namespace: ns.mesh, dryRun: 'All', body: compliant('probe') })) as V1Pod) === 1,
});
t.teardown(() => mutating.remove());

function merge(target: Record<string, unknown>, source: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(source)) {
    const have = target[k];
    target[k] = v && typeof v === 'object' && !Array.isArray(v) && have && typeof have === 'object' && !Array.isArray(have) ? merge({ ...(have as object) } as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return target;
}

/** The compliant Pod with a row applied at a site (for a container site, to the container of that kind). */
function attacked(row: Row, site: ContainerSite | 'pod' | 'metadata', name: string): V1Pod {
  const pod = compliant(name);
  const spec = pod.spec! as unknown as Record<string, unknown>;
  if (row.pod) merge(spec, row.pod);
  if (site === 'pod') merge(spec, row.set);
  else if (site === 'metadata') merge(pod.metadata! as Record<string, unknown>, row.set);
  else if (site === 'containers') merge(pod.spec!.containers[0]! as unknown as Record<string, unknown>, row.set);
  else if (site === 'initContainers') merge(pod.spec!.initContainers![0]! as unknown as Record<string, unknown>, row.set);
  else if (site === 'sidecar') pod.spec!.initContainers!.push(merge({ ...pod.spec!.initContainers![0]!, name: 'sidecar', restartPolicy: 'Always' }, row.set) as unknown as V1Container);
  return pod;
}

const sites = (row: Row): Array<ContainerSite | 'pod' | 'metadata'> => (row.site === 'container' ? (row.containers ?? CONTAINER_SITES) : [row.site]);

let tried = 0;
for (const c of classes) {
  t.test(`${c.class} (${c.file})`, async (t) => {
    for (const row of c.rows) {
      const restrictedRule = row.rule ?? c.restricted;
      for (const site of sites(row)) {
        if (site === 'ephemeral') {
          // kubectl debug: a running Pod gains a container through the pods/ephemeralcontainers subresource.
          for (const [where, namespace] of [['restricted', ns.restricted], ['defaults', ns.defaults]] as const) {
            const name = `debug-${tried}`;
            await core.createNamespacedPod({ namespace, body: attacked({ ...row, set: {} }, 'pod', name) });
            const debug = merge({ name: 'debug', image: 'registry.example.com/team/debug:1.0.0', targetContainerName: 'app', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }, row.set);
            const answer = await refusal(
              core.patchNamespacedPodEphemeralcontainers({ name, namespace, dryRun: 'All', body: { spec: { ephemeralContainers: [debug] } } }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch)),
            );
            tried++;
            const rule = where === 'restricted' ? restrictedRule : c.baseline;
            if (rule) {
              t.equal(answer?.code, 403, `${row.name}, ephemeral container, ${where}: refused`);
              t.match(answer?.body, `${rule}: `, `${row.name}, ephemeral container, ${where}: by ${rule}`);
            } else t.notOk(answer, `${row.name}, ephemeral container, ${where}: a warning only (baseline allows it)`);
          }
          continue;
        }
        for (const kind of POD_BEARING_KINDS) {
          const body = asKind(kind, attacked(row, site, `escape-${tried}`));
          const what = `${row.name}, ${site}, ${kind}`;
          const strict = await client.create(collectionPath(kind, ns.restricted), body);
          t.equal(strict.status, 403, `${what}: refused where restricted is enforced`);
          t.match(strict.message, `${restrictedRule}: `, `${what}: by ${restrictedRule}`);
          const loose = await client.create(collectionPath(kind, ns.defaults), body);
          if (c.baseline) {
            t.equal(loose.status, 403, `${what}: refused at the default baseline`);
            t.match(loose.message, `${c.baseline}: `, `${what}: by ${c.baseline}`);
          } else {
            t.equal(loose.status, 201, `${what}: allowed at the default baseline`);
            t.ok(loose.warnings.some((w) => w.startsWith(`${restrictedRule}: `)), `${what}: with a ${restrictedRule} warning`);
          }
          tried += 2;
        }
      }
    }
  });
}

t.test('what is legitimate still gets in', async (t) => {
  const review = JSON.parse(readFileSync(join(FIXTURES, 'admission', 'pod-create-deployment.json'), 'utf8')) as { request: { object: V1Pod } };
  const fixture = review.request.object;
  delete fixture.metadata!.namespace;
  delete fixture.metadata!.ownerReferences;
  const injected = await core.createNamespacedPod({ namespace: ns.mesh, dryRun: 'All', body: fixture });
  t.equal(proxies(injected), 1, 'the shipped fixture is injected in a mesh namespace');
  t.equal(injected.spec?.initContainers?.[0]?.name, 'portcullis-init', 'with the init container that adds NET_ADMIN and NET_RAW');

  const plain = compliant('plain');
  plain.spec!.securityContext = {};
  for (const c of [...plain.spec!.initContainers!, ...plain.spec!.containers]) c.securityContext = {};
  const injectedPlain = await core.createNamespacedPod({ namespace: ns.mesh, dryRun: 'All', body: plain });
  t.equal(proxies(injectedPlain), 1, 'an ordinary Pod (root, no seccomp profile) is injected and allowed at the default baseline');
  const warned = await client.create(collectionPath('Pod', ns.mesh), plain);
  t.equal(warned.status, 201);
  t.ok(warned.warnings.some((w) => w.startsWith('pod-security:runAsNonRoot: ')), 'with the restricted level as warnings');

  for (const kind of POD_BEARING_KINDS) {
    const answer = await client.create(collectionPath(kind, ns.restricted), asKind(kind, fixture.metadata?.name ? fixture : { ...fixture, metadata: { ...fixture.metadata, name: 'payment-service' } }));
    t.equal(answer.status, 201, `the shipped fixture as a ${kind} where restricted is enforced`);
  }

  const seed = (kind: string, plural: string, group: string, spec: unknown, name: string) =>
    custom.createNamespacedCustomObject({ group, version: 'v1', namespace: ns.mesh, plural, dryRun: 'All', body: { apiVersion: `${group}/v1`, kind, metadata: { name }, spec } });
  t.notOk(await refusal(seed('PeerAuthentication', 'peerauthentications', 'security.istio.io', { selector: { matchLabels: { app: 'microservice' } }, mtls: { mode: 'STRICT' } }, 'microservice-mtls')), "the seed's PeerAuthentication");
  t.notOk(
    await refusal(seed('DestinationRule', 'destinationrules', 'networking.istio.io', { host: 'microservice', trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' }, connectionPool: { tcp: { maxConnections: 100, connectTimeout: '30ms' } } } }, 'microservice-resilience')),
    "the seed's DestinationRule",
  );
});

t.teardown(() => {
  t.comment(`node escape: ${tried} attempts`);
});
