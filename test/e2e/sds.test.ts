// Workload certificates end to end on the test API server: a Pod created in a mesh namespace is stored with Envoy
// and the init container, its bootstrap passes the Envoy API validation, and a gRPC client presenting that Pod's
// projected ServiceAccount token (TokenRequest bound to the Pod, audience portcullis: what the kubelet mounts)
// gets an SVID for exactly that identity over SDS; other tokens get nothing, or only their own identity.
import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import * as grpc from '@grpc/grpc-js';
import { SignJWT } from 'jose';
import t from 'tap';
import { createCa } from '../../src/certs/authority.js';
import { splitPems } from '../../src/certs/pem.js';
import { startHarness } from '../admission/service.js';
import { loadKubeConfig, sharedControlPlane } from '../helpers/controlplane.js';
import { meshNamespaceFacts } from './mesh-facts.js';
import { validateBootstraps } from '../helpers/envoy-validate.js';
import { compliantPod, proxies, refusal } from '../helpers/kube-pods.js';
import { registerWebhook, shippedWebhook } from '../helpers/kube-webhooks.js';
import { decodeSecrets, SdsClient, type Secret } from '../helpers/sds-client.js';
import { bootstrapOf, redirectOf } from '../helpers/sidecar.js';

t.setTimeout(300_000);

const id = randomBytes(4).toString('hex');
const namespace = `sds-e2e-${id}`;
const testLabel = 'portcullis.test/sds';

const plane = await sharedControlPlane();
const kc = loadKubeConfig(plane);
const core = kc.makeApiClient(CoreV1Api);
await core.createNamespace({ body: { metadata: { name: namespace, labels: { [testLabel]: id, 'portcullis.io/injection': 'enabled' } } } });
t.teardown(() => core.deleteNamespace({ name: namespace }).then(() => undefined));
for (const name of ['web', 'other']) await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });

const facts = await meshNamespaceFacts(t, kc, namespace);

// Short-lived certificates so a renewal happens while the test watches: 40 s, renewed 25 s before they expire.
const h = await startHarness({
  facts,
  config: {
    kubernetes: { kubeconfig: plane.kubeconfigPath },
    sds: { enabled: true, host: '127.0.0.1', port: 0, certificateTtl: '40s', renewBefore: '25s', maxStreamsPerPod: 3 },
  },
});
t.teardown(() => h.close());
const sdsPort = h.service.listeners.find((l) => l.name === 'sds')?.port ?? 0;
const client = new SdsClient(sdsPort, h.ca);
t.teardown(() => client.close());

const manifest = (file: 'validating.yaml' | 'mutating.yaml', path: string) =>
  shippedWebhook(file, { port: h.port, ca: h.ca, path }, { label: testLabel, value: id, suffix: `sds-${id}` });
const validating = await registerWebhook(kc, await manifest('validating.yaml', '/validate'), {
  until: async () => (await refusal(core.createNamespacedPod({ namespace, dryRun: 'All', body: compliantPod('probe', (p) => (p.spec!.hostPID = true)) })))?.body.includes('no-host-namespaces') ?? false,
});
t.teardown(() => validating.remove());
const mutating = await registerWebhook(kc, await manifest('mutating.yaml', '/mutate'), {
  until: async () => proxies(await core.createNamespacedPod({ namespace, dryRun: 'All', body: compliantPod('probe') })) === 1,
});
t.teardown(() => mutating.remove());

const webId = `spiffe://cluster.local/ns/${namespace}/sa/web`;

/** The token the kubelet mounts for the Pod: audience portcullis, bound to the Pod. */
async function podToken(pod: V1Pod, audience = 'portcullis'): Promise<string> {
  const reply = await core.createNamespacedServiceAccountToken({
    namespace,
    name: pod.spec?.serviceAccountName ?? 'default',
    body: { spec: { audiences: [audience], expirationSeconds: 600, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata?.name, uid: pod.metadata?.uid } } },
  });
  return reply.status?.token ?? '';
}

function certificateOf(secrets: Secret[]): X509Certificate {
  const cert = secrets.find((s) => s.name === 'default')?.cert;
  if (!cert) throw new Error('no workload certificate in the response');
  return new X509Certificate(cert);
}

const stored = await (async () => {
  await core.createNamespacedPod({ namespace, body: compliantPod('web-1') });
  return core.readNamespacedPod({ namespace, name: 'web-1' });
})();

t.test('the Pod is stored with Envoy and the init container, and its bootstrap passes the Envoy API validation', async (t) => {
  const proxy = stored.spec?.containers.find((c) => c.name === 'portcullis-proxy');
  const init = stored.spec?.initContainers?.[0];
  t.match(proxy?.image, /^docker\.io\/envoyproxy\/envoy:v\d+\.\d+\.\d+$/, 'upstream Envoy');
  t.equal(init?.name, 'portcullis-init');
  t.match(init?.image, /^docker\.io\/istio\/proxyv2:/);
  t.match(redirectOf(init), /-A PORTCULLIS_OUTPUT -m owner --uid-owner 1337 -j RETURN/, 'the redirect Portcullis renders');
  const bootstrap = bootstrapOf(proxy);
  t.equal(bootstrap.node.metadata.spiffe_id, webId);
  const verdict = await validateBootstraps([bootstrap]);
  t.equal(verdict.lines.length, 1);
  t.match(verdict.lines[0], /^ok /, `the stored Pod's bootstrap: ${verdict.lines[0]}`);
});

t.test("the Pod's token gets an SVID of exactly its identity, renewed before it expires", async (t) => {
  const token = await podToken(stored);
  const stream = client.stream(token);
  t.teardown(() => stream.close());
  // What the proxy's bootstrap asks for: both secrets over one aggregated stream.
  stream.send(['default', 'ROOTCA']);
  const first = await stream.next();
  t.same(decodeSecrets(first).map((s) => s.name), ['ROOTCA', 'default'], 'both secrets on the aggregated (ADS) stream');
  const cert = certificateOf(decodeSecrets(first));
  t.equal(cert.subjectAltName, `URI:${webId}`, 'exactly one URI SAN: the SPIFFE ID of the Pod\'s ServiceAccount');
  t.ok(cert.checkIssued(new X509Certificate(h.ca)) && cert.verify(new X509Certificate(h.ca).publicKey), 'signed by the mesh CA');
  t.equal(cert.ca, false);
  const key = decodeSecrets(first).find((s) => s.name === 'default')?.key ?? '';
  t.ok(cert.checkPrivateKey(createPrivateKey(key)), 'with its private key');
  const lifetime = new Date(cert.validTo).getTime() - Date.now();
  t.ok(lifetime > 30_000 && lifetime <= 40_000, `short-lived (sds.certificateTtl 40s): ${lifetime} ms left`);

  stream.send(['default', 'ROOTCA'], first);
  t.ok(await stream.quiet(1000), 'an acknowledgement gets nothing back');
  const renewed = await stream.next(30_000);
  const next = certificateOf(decodeSecrets(renewed));
  t.not(next.serialNumber, cert.serialNumber, 'a new certificate, pushed without being asked');
  t.equal(next.subjectAltName, `URI:${webId}`);
  t.not(renewed.version_info, first.version_info);
  t.ok(new Date(cert.validTo).getTime() - Date.now() > 0, 'before the first one expired');

  await h.service.ctx.audit.flush();
  const issued = h.events.filter((e) => e.kind === 'sds' && e.decision === 'allow' && e.sds?.spiffe_id === webId);
  t.ok(issued.length >= 2, 'every issuance is an audit event');
  t.match(issued[0]?.sds, { namespace, service_account: 'web', pod: 'web-1', serial: /^[0-9a-f]+$/, resources: ['default', 'ROOTCA'] });
  t.notOk(h.events.some((e) => JSON.stringify(e).includes(token)), 'the token is never written');
});

t.test('the trust bundle, and again when it changes (over SDS\'s own StreamSecrets too)', async (t) => {
  const stream = client.stream(await podToken(stored), 'sds');
  t.teardown(() => stream.close());
  stream.send(['ROOTCA']);
  const first = await stream.next();
  const bundle = decodeSecrets(first)[0]?.trustedCa ?? '';
  t.equal(splitPems(bundle).length, 1);
  t.ok(new X509Certificate(bundle).checkIssued(new X509Certificate(h.ca)), 'the mesh CA');
  stream.send(['ROOTCA'], first);
  // A CA rollover, phase 1: a second CA in the bundle.
  const current = h.service.ctx.tls.current();
  const next = createCa('portcullis-next-ca', 1);
  h.service.ctx.tls.set({ ...current, ca: `${current.ca}${next.cert}` });
  t.teardown(() => h.service.ctx.tls.set(current));
  const pushed = await stream.next();
  t.equal(splitPems(decodeSecrets(pushed)[0]?.trustedCa ?? '').length, 2, 'both CAs, pushed to the proxy');
});

t.test('FetchSecrets answers the same, once', async (t) => {
  const answer = await client.fetch(await podToken(stored), ['default', 'ROOTCA']);
  const secrets = decodeSecrets(answer);
  t.same(secrets.map((s) => s.name), ['ROOTCA', 'default']);
  t.equal(certificateOf(secrets).subjectAltName, `URI:${webId}`);
});

t.test('anything else gets nothing, with the reason', async (t) => {
  const refused = async (token: string | undefined, names = ['default'], typeUrl?: string) => {
    const stream = client.stream(token);
    try {
      stream.send(names, undefined, typeUrl);
      await stream.next(30_000);
      return undefined;
    } catch (err) {
      return err as grpc.ServiceError;
    } finally {
      stream.close();
    }
  };

  const none = await refused(undefined);
  t.equal(none?.code, grpc.status.UNAUTHENTICATED, 'no token');
  t.match(none?.details, /no ServiceAccount token/);

  const vault = await refused(await podToken(stored, 'vault'));
  t.equal(vault?.code, grpc.status.UNAUTHENTICATED, 'a token for another audience');
  t.match(vault?.details, /did not authenticate the token/);

  const apiServer = await refused(await podToken(stored, 'https://kubernetes.default.svc'));
  t.equal(apiServer?.code, grpc.status.UNAUTHENTICATED, "a token for the API server's own audience");

  // An expired token of the right audience, signed with the API server's own ServiceAccount key.
  const key = createPrivateKey(await readFile(join(plane.dir, 'pki', 'sa.key'), 'utf8'));
  const sa = await core.readNamespacedServiceAccount({ namespace, name: 'web' });
  const now = Math.floor(Date.now() / 1000);
  const expired = await new SignJWT({ 'kubernetes.io': { namespace, serviceaccount: { name: 'web', uid: sa.metadata?.uid } } })
    .setProtectedHeader({ alg: 'RS256' })
    .setIssuer('https://kubernetes.default.svc')
    .setSubject(`system:serviceaccount:${namespace}:web`)
    .setAudience(['portcullis'])
    .setIssuedAt(now - 3600)
    .setNotBefore(now - 3600)
    .setExpirationTime(now - 60)
    .sign(key);
  const old = await refused(expired);
  t.equal(old?.code, grpc.status.UNAUTHENTICATED, 'an expired token');

  const forged = await refused(`${expired.split('.').slice(0, 2).join('.')}.${Buffer.from('not a signature').toString('base64url')}`);
  t.equal(forged?.code, grpc.status.UNAUTHENTICATED, 'a token that is not the API server\'s');

  const token = await podToken(stored);
  const other = await refused(token, ['spiffe://cluster.local/ns/kube-system/sa/admin']);
  t.equal(other?.code, grpc.status.INVALID_ARGUMENT, "a secret by another name (another identity's)");
  t.match(other?.details, /unknown secret "spiffe:\/\/cluster.local\/ns\/kube-system\/sa\/admin": this server serves "default"/);
  const wrongType = await refused(token, ['default'], 'type.googleapis.com/envoy.config.cluster.v3.Cluster');
  t.equal(wrongType?.code, grpc.status.INVALID_ARGUMENT, 'another resource type');

  // Sent at once, before the token is reviewed: a refused request is not hidden by a valid one after it.
  const hidden = client.stream(token);
  hidden.send(['default'], undefined, 'type.googleapis.com/envoy.config.cluster.v3.Cluster');
  for (let i = 0; i < 50; i++) hidden.send(['ROOTCA']);
  const hiddenErr = await hidden.next().then(() => undefined, (e: grpc.ServiceError) => e);
  hidden.close();
  t.equal(hiddenErr?.code, grpc.status.INVALID_ARGUMENT, 'a refused request before the token is reviewed, then valid ones');

  // A token bound to a Pod that is gone is not valid any more.
  await core.createNamespacedPod({ namespace, body: compliantPod('web-gone') });
  const gone = await core.readNamespacedPod({ namespace, name: 'web-gone' });
  const goneToken = await podToken(gone);
  await core.deleteNamespacedPod({ namespace, name: 'web-gone', gracePeriodSeconds: 0 });
  for (let i = 0; i < 50 && (await refusal(core.readNamespacedPod({ namespace, name: 'web-gone' }))) === undefined; i++) await new Promise((r) => setTimeout(r, 100));
  const stale = await refused(goneToken);
  t.equal(stale?.code, grpc.status.UNAUTHENTICATED, "a token of a Pod that was deleted");

  await h.service.ctx.audit.flush();
  const denials = h.events.filter((e) => e.kind === 'sds' && e.decision === 'deny');
  t.ok(denials.length >= 8, 'every refusal is an audit event');
  t.ok(denials.some((e) => /not for audience|did not authenticate/.test(e.sds?.reason ?? '')), 'with its reason');
});

t.test("another ServiceAccount's token gets that ServiceAccount's identity, never the Pod's", async (t) => {
  await core.createNamespacedPod({ namespace, body: compliantPod('other-1', (p) => (p.spec!.serviceAccountName = 'other')) });
  const pod = await core.readNamespacedPod({ namespace, name: 'other-1' });
  const answer = await client.fetch(await podToken(pod), ['default']);
  t.equal(certificateOf(decodeSecrets(answer)).subjectAltName, `URI:spiffe://cluster.local/ns/${namespace}/sa/other`);
});

t.test('one Pod holds a bounded number of streams', async (t) => {
  const token = await podToken(stored);
  const open = [0, 1, 2].map(() => client.stream(token));
  t.teardown(() => open.forEach((s) => s.close()));
  for (const s of open) s.send(['ROOTCA']);
  for (const s of open) await s.next();
  const extra = client.stream(token);
  t.teardown(() => extra.close());
  extra.send(['ROOTCA']);
  const err = await extra.next().then(() => undefined, (e: grpc.ServiceError) => e);
  t.equal(err?.code, grpc.status.RESOURCE_EXHAUSTED, 'sds.maxStreamsPerPod');
});
