// Certificate rotation end to end: two replicas in Kubernetes mode share the Secret; the leader renews the
// serving certificate and rolls the CA over while the real API server keeps calling both replicas' webhooks
// and a client keeps sending reviews over HTTPS, on a kept-alive connection and on fresh ones verified
// with the caBundle of the moment. Not one request may fail. Then the leader leaves (its webhook taken out
// first, as endpoints go when readiness drops) and the other replica carries on rotating.
import { request, Agent } from 'node:https';
import { X509Certificate } from 'node:crypto';
import { AdmissionregistrationV1Api, CoordinationV1Api, type V1ValidatingWebhookConfiguration } from '@kubernetes/client-node';
import t from 'tap';
import { splitPems } from '../../src/certs/pem.js';
import { decodeState } from '../../src/certs/state.js';
import { cluster, suffix, testNamespace, until } from '../kube/support.js';
import { startReplica, type Replica } from './kube-replicas.js';

t.setTimeout(300_000);
const c = await cluster();
const admissionApi = c.kc.makeApiClient(AdmissionregistrationV1Api);
const leases = c.kc.makeApiClient(CoordinationV1Api);
const id = suffix();
const ns = await testNamespace(t, c, 'rotation', { 'portcullis.test/rotation': id });
const webhookName = `rotation-${id}`;

const config = {
  tls: {
    mode: 'secret',
    secret: { name: 'portcullis-webhook-tls', rotationPeriod: '20s', earlyRotation: '12s', caRotationPeriod: '60s', caEarlyRotation: '44s', trustPropagation: '2s', extraNames: ['127.0.0.1'] },
  },
  kubernetes: {
    webhooks: { mutating: [], validating: [webhookName] },
    leaderElection: { leaseDurationSeconds: 3, renewDeadlineSeconds: 2, retryPeriodSeconds: 0.5 },
    informers: { resyncSeconds: 30, watchTimeoutSeconds: 30, retrySeconds: 0.2 },
  },
};

// The admin API's bearer token, as a Secret would provide it in a cluster.
process.env.PORTCULLIS_ADMIN_TOKEN = `token-${id}`;
const replicas: Replica[] = [];
t.teardown(async () => {
  await Promise.all(replicas.map((r) => r.stop()));
});
replicas.push(...(await Promise.all(['r1', 'r2'].map((name) => startReplica(name, c.plane.kubeconfigPath, ns, config)))));

// One webhook per replica: the API server calls both for every ConfigMap created in the namespace.
const webhook = (r: Replica) => ({
  name: `${r.identity}.rotation.portcullis.test`,
  clientConfig: { url: `https://127.0.0.1:${r.admissionPort}/validate`, caBundle: Buffer.from('not yet').toString('base64') },
  rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'] }],
  namespaceSelector: { matchLabels: { 'portcullis.test/rotation': id } },
  failurePolicy: 'Fail',
  sideEffects: 'None',
  admissionReviewVersions: ['v1'],
  timeoutSeconds: 5,
});
await admissionApi.createValidatingWebhookConfiguration({ body: { metadata: { name: webhookName }, webhooks: replicas.map(webhook) } });
t.teardown(() => admissionApi.deleteValidatingWebhookConfiguration({ name: webhookName }).then(() => undefined, () => undefined));

const caBundle = async () => {
  const config = await admissionApi.readValidatingWebhookConfiguration({ name: webhookName });
  return Buffer.from(config.webhooks?.[0]?.clientConfig.caBundle ?? '', 'base64').toString('utf8');
};
const dryRun = (name: string) => c.core.createNamespacedConfigMap({ namespace: ns, dryRun: 'All', body: { metadata: { name } } });
await until('the API server reaches both replicas through the patched caBundle', () => dryRun('probe').then(() => true), 30_000, 250);

const review = (uid: string) =>
  JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group: '', version: 'v1', kind: 'ConfigMap' },
      resource: { group: '', version: 'v1', resource: 'configmaps' },
      operation: 'CREATE',
      namespace: ns,
      name: 'direct',
      userInfo: { username: 'tester' },
      object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'direct', namespace: ns } },
    },
  });

/** One review over HTTPS; resolves with the serial of the certificate that was served. */
function send(port: number, agent: Agent | false, ca: string | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const body = review(`${Date.now()}-${Math.random()}`);
    const req = request(
      { host: '127.0.0.1', port, path: '/validate', method: 'POST', agent, ...(ca ? { ca } : {}), headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const serial = (res.socket as import('node:tls').TLSSocket).getPeerCertificate().serialNumber?.toLowerCase() ?? '';
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => {
          const allowed = res.statusCode === 200 && (JSON.parse(text) as { response?: { allowed?: boolean } }).response?.allowed === true;
          if (allowed) resolve(serial);
          else reject(new Error(`status ${res.statusCode}: ${text.slice(0, 200)}`));
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

interface Load {
  ok: number;
  failures: string[];
  serials: Set<string>;
  stop(): Promise<void>;
}

/** Keeps sending: through the API server, on a kept-alive connection, and on fresh connections trusting the current caBundle. */
function load(targets: () => Replica[]): Load {
  const state: Load = { ok: 0, failures: [], serials: new Set(), stop: async () => {} };
  let running = true;
  const initialCa = caBundle();
  const kept = new Map<number, Agent>();
  const loops = [
    (async () => {
      for (let i = 0; running; i++) {
        await dryRun(`via-apiserver-${i}`).then(
          () => void state.ok++,
          (err: unknown) => void state.failures.push(`API server: ${String((err as { body?: unknown }).body ?? err)}`),
        );
      }
    })(),
    (async () => {
      // A connection opened before the rotations: it must keep working (the secure context is swapped for new handshakes only).
      const ca = await initialCa;
      while (running) {
        for (const r of targets()) {
          let agent = kept.get(r.admissionPort);
          if (!agent) kept.set(r.admissionPort, (agent = new Agent({ keepAlive: true, maxSockets: 1, ca })));
          await send(r.admissionPort, agent, undefined).then(
            () => void state.ok++,
            (err: unknown) => void state.failures.push(`kept-alive ${r.identity}: ${String(err)}`),
          );
        }
        await new Promise((res) => setTimeout(res, 20));
      }
    })(),
    (async () => {
      while (running) {
        const ca = await caBundle();
        for (const r of targets()) {
          await send(r.admissionPort, false, ca).then(
            (serial) => {
              state.ok++;
              state.serials.add(serial);
            },
            (err: unknown) => void state.failures.push(`fresh ${r.identity}: ${String(err)}`),
          );
        }
      }
    })(),
  ];
  state.stop = async () => {
    running = false;
    await Promise.all(loops);
    for (const a of kept.values()) a.destroy();
  };
  return state;
}

const secretState = async () => decodeState((await c.core.readNamespacedSecret({ name: 'portcullis-webhook-tls', namespace: ns })).data);
const caSerial = (pem: string) => new X509Certificate(pem).serialNumber.toLowerCase();

t.test('the status API reports the Kubernetes side', async (t) => {
  const r = replicas[0] as Replica;
  const res = await fetch(`http://127.0.0.1:${r.adminPort}/api/v1/mesh/status`, { headers: { authorization: `Bearer ${process.env.PORTCULLIS_ADMIN_TOKEN}` } });
  t.equal(res.status, 200);
  const status = (await res.json()) as { mode: string; kubernetes: Record<string, any> };
  t.equal(status.mode, 'kubernetes');
  t.match(status.kubernetes, {
    mode: 'kubernetes',
    namespace: ns,
    identity: 'r1',
    factsSynced: true,
    informers: { namespaces: { synced: true, connected: true }, pods: { synced: true, connected: true } },
    leader: { identity: /^r[12]$/, lease: 'portcullis-leader' },
    certificates: { mode: 'secret', secret: 'portcullis-webhook-tls', serving: /^[0-9a-f]+$/ },
  });
  const leaders = replicas.filter((x) => (x.status().leader as { self: boolean }).self);
  t.equal(leaders.length, 1, 'one replica says it leads');
  t.match(leaders[0]?.status(), { webhooks: [{ kind: 'validating', name: webhookName, present: true, current: true }], certificates: { rotation: /./ } }, 'the leader reports the caBundle and the rotation');
});

t.test('renewals and a CA rollover under load: zero failed requests', async (t) => {
  const first = await secretState();
  if (!first) return t.fail('no certificate state');
  const firstCa = caSerial(first.signer.cert);
  const traffic = load(() => replicas);
  const bundleSizes = new Set<number>();
  const watchBundle = setInterval(() => void caBundle().then((b) => bundleSizes.add(splitPems(b).length)), 200);

  await until(
    'a CA rollover completed (new signer, old CA gone from the bundle)',
    async () => {
      const s = await secretState();
      return s && caSerial(s.signer.cert) !== firstCa && s.trust.length === 1 && traffic.serials.size >= 3;
    },
    150_000,
    500,
  );
  clearInterval(watchBundle);
  await traffic.stop();

  t.same(traffic.failures, [], 'no request failed');
  t.ok(traffic.ok > 50, `${traffic.ok} requests answered`);
  t.ok(traffic.serials.size >= 3, `new serving certificates seen by clients: ${traffic.serials.size}`);
  t.ok(bundleSizes.has(2), 'the caBundle carried old and new CA during the rollover');
  t.equal(splitPems(await caBundle()).length, 1, 'and only the new CA afterwards');
  const now = await secretState();
  t.equal(replicas[0]?.status().certificates && (replicas[0].status().certificates as { serving: string }).serving, (replicas[1]?.status().certificates as { serving: string }).serving, 'both replicas serve the same certificate');
  t.ok(now && new X509Certificate(now.serving.cert).checkIssued(new X509Certificate(now.signer.cert)), 'served certificate issued by the new CA');
});

t.test('the leader leaves: readiness drops first, the Lease is released, the other replica carries on rotating', async (t) => {
  const leader = replicas.find((r) => (r.status().leader as { self: boolean }).self);
  const other = replicas.find((r) => r !== leader);
  if (!leader || !other) return t.fail('no leader');
  // Endpoints go when readiness drops; here the test takes the leader's webhook out of the configuration.
  const current = await admissionApi.readValidatingWebhookConfiguration({ name: webhookName });
  const body: V1ValidatingWebhookConfiguration = { ...current, webhooks: current.webhooks?.filter((w) => !w.name.startsWith(`${leader.identity}.`)) };
  await admissionApi.replaceValidatingWebhookConfiguration({ name: webhookName, body });
  await new Promise((r) => setTimeout(r, 1000));

  const traffic = load(() => [other]);
  const before = new Set(traffic.serials);
  const stopping = leader.stop(1500);
  await new Promise((r) => setTimeout(r, 300));
  const ready = await fetch(`http://127.0.0.1:${leader.adminPort}/readyz`);
  t.equal(ready.status, 503, 'the stopping replica is not ready while it drains');
  await stopping;
  const stoppedAt = Date.now();
  await until('the other replica leads', () => (other.status().leader as { self: boolean }).self, 10_000, 50);
  t.ok(Date.now() - stoppedAt < 3000, 'taken over before the 3s lease would have expired: released on stop');
  const lease = await leases.readNamespacedLease({ name: 'portcullis-leader', namespace: ns });
  t.equal(lease.spec?.holderIdentity, other.identity, 'the Lease names the new leader');
  const replicaLeases = await leases.listNamespacedLease({ namespace: ns, labelSelector: 'portcullis.io/replica-of=portcullis-leader' });
  t.same(replicaLeases.items.map((l) => l.spec?.holderIdentity), [other.identity], 'the stopped replica removed its replica Lease');

  const servingBefore = (other.status().certificates as { serving: string }).serving;
  await until('a renewal by the new leader', () => (other.status().certificates as { serving: string }).serving !== servingBefore, 45_000, 200);
  await until('clients see it', () => [...traffic.serials].some((s) => !before.has(s) && s !== servingBefore), 15_000, 200);
  await traffic.stop();
  t.same(traffic.failures, [], 'no request failed across the hand-over');
});
