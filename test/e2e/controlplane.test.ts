// The loop every admission e2e test relies on: a real kube-apiserver calls a webhook served here over
// HTTPS with real AdmissionReview v1 requests, and what the webhook decides is what a client sees.
// Then the ways the control plane itself can go wrong.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiException, CoreV1Api, CustomObjectsApi, type V1ConfigMap } from '@kubernetes/client-node';
import t from 'tap';
import {
  ADMIN_USER,
  ControlPlaneError,
  type ControlPlaneInfo,
  type ControlPlaneOptions,
  loadKubeConfig,
  sharedControlPlane,
  startControlPlane,
} from '../helpers/controlplane.js';
import { installCrds } from '../helpers/kube-crds.js';
import { webhookServingCert } from '../helpers/kube-pki.js';
import { alive } from '../helpers/kube-state.js';
import { registerWebhook, urlClientConfig } from '../helpers/kube-webhooks.js';
import { ROOT } from '../helpers/paths.js';

// Each private control plane below takes several seconds to start on two cores; tap's 120 s is too short.
t.setTimeout(600_000);

interface AdmissionRequest {
  uid: string;
  kind: { group: string; version: string; kind: string };
  resource: { group: string; version: string; resource: string };
  operation: string;
  namespace?: string;
  name?: string;
  userInfo: { username: string; groups?: string[] };
  object: { metadata?: { name?: string; labels?: Record<string, string> }; data?: Record<string, string>; spec?: unknown };
  dryRun?: boolean;
}

interface AdmissionReview {
  apiVersion: string;
  kind: string;
  request: AdmissionRequest;
}

const id = randomBytes(4).toString('hex');
const namespace = `cp-e2e-${id}`;
const testLabel = 'portcullis.test/controlplane';

const errorText = (err: unknown): string =>
  err instanceof ApiException ? `${err.code} ${typeof err.body === 'string' ? err.body : JSON.stringify(err.body)}` : String(err);

const apiCode = (err: unknown): number | undefined => (err instanceof ApiException ? err.code : undefined);

// --- the webhook, served by this test ------------------------------------------------------------

const reviews: AdmissionReview[] = [];
const hanging = new Set<ServerResponse>();

function answer(res: ServerResponse, review: AdmissionReview, response: Record<string, unknown>): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: review.request.uid, ...response } }));
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  let body = '';
  for await (const chunk of req) body += String(chunk);
  const review = JSON.parse(body) as AdmissionReview;
  reviews.push(review);
  const object = review.request.object;
  switch (new URL(req.url ?? '/', 'https://127.0.0.1').pathname) {
    case '/validate': {
      if (object.data && 'forbidden' in object.data) {
        answer(res, review, { allowed: false, status: { code: 403, message: `ConfigMap ${object.metadata?.name ?? ''} carries the forbidden key` } });
      } else {
        answer(res, review, { allowed: true });
      }
      return;
    }
    case '/mutate': {
      const patch = [
        ...(object.metadata?.labels ? [] : [{ op: 'add', path: '/metadata/labels', value: {} }]),
        { op: 'add', path: '/metadata/labels/portcullis.test~1mutated', value: 'true' },
        { op: 'add', path: '/spec/mtls', value: { mode: 'STRICT' } },
      ];
      answer(res, review, { allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') });
      return;
    }
    case '/hang':
      // Never answered: the API server's timeoutSeconds decides what happens.
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      return;
    default:
      res.writeHead(404).end();
  }
}

const cert = webhookServingCert();
const webhookServer: Server = createHttpsServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
  handle(req, res).catch((err: unknown) => res.writeHead(500).end(String(err)));
});
await new Promise<void>((resolve) => webhookServer.listen(0, '127.0.0.1', resolve));
const webhookBase = `https://127.0.0.1:${(webhookServer.address() as AddressInfo).port}`;
t.teardown(() => {
  for (const res of hanging) res.destroy();
  webhookServer.closeAllConnections();
  webhookServer.close();
});

// --- the shared control plane ----------------------------------------------------------------------

const plane: ControlPlaneInfo = await sharedControlPlane();
const kc = loadKubeConfig(plane);
const core = kc.makeApiClient(CoreV1Api);
const custom = kc.makeApiClient(CustomObjectsApi);
await installCrds(kc);
await core.createNamespace({ body: { metadata: { name: namespace, labels: { [testLabel]: id } } } });
// Namespaces never finish deleting without a controller-manager; a delete still marks it for anyone looking.
t.teardown(() => core.deleteNamespace({ name: namespace }).then(() => undefined));

const scope = { namespaceSelector: { matchLabels: { [testLabel]: id } }, admissionReviewVersions: ['v1'], sideEffects: 'None' };
const configMapRule = [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'] }];
const configMap = (name: string, extra: Partial<V1ConfigMap> = {}): V1ConfigMap => ({ metadata: { name }, ...extra });

const validating = await registerWebhook(
  kc,
  {
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: `cp-e2e-validate-${id}` },
    webhooks: [
      {
        name: 'deny-forbidden.portcullis.test',
        clientConfig: urlClientConfig(`${webhookBase}/validate`, cert.caPem),
        rules: configMapRule,
        failurePolicy: 'Fail',
        ...scope,
      },
      ...(['Fail', 'Ignore'] as const).map((failurePolicy) => ({
        name: `hang-${failurePolicy.toLowerCase()}.portcullis.test`,
        clientConfig: urlClientConfig(`${webhookBase}/hang`, cert.caPem),
        rules: configMapRule,
        objectSelector: { matchLabels: { hang: failurePolicy.toLowerCase() } },
        failurePolicy,
        timeoutSeconds: 1,
        ...scope,
      })),
    ],
  },
  {
    until: () =>
      core
        .createNamespacedConfigMap({ namespace, dryRun: 'All', body: configMap('probe', { data: { forbidden: 'x' } }) })
        .then(
          () => false,
          (err: unknown) => apiCode(err) === 403,
        ),
  },
);
t.teardown(() => validating.remove());

const mutating = await registerWebhook(
  kc,
  {
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: `cp-e2e-mutate-${id}` },
    webhooks: [
      {
        name: 'strict-mtls.portcullis.test',
        clientConfig: urlClientConfig(`${webhookBase}/mutate`, cert.caPem),
        rules: [{ operations: ['CREATE'], apiGroups: ['security.istio.io'], apiVersions: ['*'], resources: ['peerauthentications'] }],
        failurePolicy: 'Fail',
        reinvocationPolicy: 'Never',
        ...scope,
      },
    ],
  },
  {
    until: async () => {
      const created = (await custom.createNamespacedCustomObject({
        group: 'security.istio.io',
        version: 'v1',
        namespace,
        plural: 'peerauthentications',
        dryRun: 'All',
        body: { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'probe' }, spec: {} },
      })) as AdmissionRequest['object'];
      return created.metadata?.labels?.['portcullis.test/mutated'] === 'true';
    },
  },
);
t.teardown(() => mutating.remove());

t.test('a denial by the webhook refuses the create with its message', async (t) => {
  reviews.length = 0;
  const err = await core.createNamespacedConfigMap({ namespace, body: configMap('denied', { data: { forbidden: 'yes' } }) }).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.equal(apiCode(err), 403, 'the API server answers with the webhook status code');
  t.match(errorText(err), /admission webhook \\?"deny-forbidden\.portcullis\.test\\?" denied the request: ConfigMap denied carries the forbidden key/);
  const read = await core.readNamespacedConfigMap({ name: 'denied', namespace }).catch((e: unknown) => e);
  t.equal(apiCode(read), 404, 'nothing was stored');

  await core.createNamespacedConfigMap({ namespace, body: configMap('allowed', { data: { fine: 'yes' } }) });
  const allowed = await core.readNamespacedConfigMap({ name: 'allowed', namespace });
  t.same(allowed.data, { fine: 'yes' }, 'an allowed object is stored');
});

t.test('the webhook receives a real AdmissionReview v1 from the API server', async (t) => {
  const review = reviews.find((r) => r.request.name === 'denied' || r.request.object.metadata?.name === 'denied');
  if (!review) return t.fail(`no review for the denied ConfigMap among ${reviews.length}`);
  t.equal(review.apiVersion, 'admission.k8s.io/v1');
  t.equal(review.kind, 'AdmissionReview');
  t.match(review.request.uid, /^[0-9a-f-]{36}$/);
  t.same(review.request.kind, { group: '', version: 'v1', kind: 'ConfigMap' });
  t.same(review.request.resource, { group: '', version: 'v1', resource: 'configmaps' });
  t.equal(review.request.operation, 'CREATE');
  t.equal(review.request.namespace, namespace);
  t.equal(review.request.dryRun, false);
  t.equal(review.request.userInfo.username, ADMIN_USER, 'the user is the kubeconfig client certificate');
  t.ok(review.request.userInfo.groups?.includes('system:masters'));
});

t.test('a mutation by the webhook (JSONPatch) is what gets stored', async (t) => {
  const body = { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'default' }, spec: { mtls: { mode: 'PERMISSIVE' } } };
  const target = { group: 'security.istio.io', version: 'v1', namespace, plural: 'peerauthentications' };
  await custom.createNamespacedCustomObject({ ...target, body });
  const stored = (await custom.getNamespacedCustomObject({ ...target, name: 'default' })) as AdmissionRequest['object'];
  t.same(stored.spec, { mtls: { mode: 'STRICT' } }, 'spec patched by the webhook');
  t.equal(stored.metadata?.labels?.['portcullis.test/mutated'], 'true', 'label added by the webhook');
  const review = reviews.find((r) => r.request.kind.kind === 'PeerAuthentication' && !r.request.dryRun);
  t.same(review?.request.kind, { group: 'security.istio.io', version: 'v1', kind: 'PeerAuthentication' }, 'the CRD kind reached the webhook');
});

t.test('a webhook that times out', async (t) => {
  t.test('with failurePolicy Fail refuses the create', async (t) => {
    const started = Date.now();
    const err = await core.createNamespacedConfigMap({ namespace, body: configMap('hang-fail', { metadata: { name: 'hang-fail', labels: { hang: 'fail' } } }) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.ok(err, 'create refused');
    t.match(errorText(err), /failed calling webhook \\?"hang-fail\.portcullis\.test\\?"/);
    t.match(errorText(err), /deadline exceeded|timeout/i);
    t.ok(Date.now() - started < 10_000, 'refused after the webhook timeout, not a client timeout');
    t.equal(apiCode(await core.readNamespacedConfigMap({ name: 'hang-fail', namespace }).catch((e: unknown) => e)), 404);
  });
  t.test('with failurePolicy Ignore lets the create through', async (t) => {
    await core.createNamespacedConfigMap({ namespace, body: configMap('hang-ignore', { metadata: { name: 'hang-ignore', labels: { hang: 'ignore' } } }) });
    const stored = await core.readNamespacedConfigMap({ name: 'hang-ignore', namespace });
    t.equal(stored.metadata?.labels?.hang, 'ignore');
  });
});

// --- the control plane's own bad paths (private planes, each stopped and checked) -----------------

async function gone(pids: number[], dir: string, timeoutMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(alive) || existsSync(dir)) {
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
  return true;
}

/** The error of a start that must fail; a plane that starts anyway is stopped and reported as the error. */
async function failedStart(options: ControlPlaneOptions): Promise<ControlPlaneError | Error> {
  return startControlPlane(options).then(
    async (cp) => {
      await cp.stop();
      return new Error(`the control plane started at ${cp.server} although it should not have`);
    },
    (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
  );
}

async function holdPort(): Promise<TcpServer> {
  const holder = createTcpServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  return holder;
}

const portOf = (server: TcpServer): number => (server.address() as AddressInfo).port;

t.test('a port already taken', async (t) => {
  const holder = await holdPort();
  t.teardown(() => holder.close());
  const taken = portOf(holder);

  t.test('is a clear error when the port is required', async (t) => {
    const err = await failedStart({ apiServerPort: taken, strictPorts: true });
    t.type(err, ControlPlaneError);
    t.match(err.message, `kube-apiserver port 127.0.0.1:${taken} is already in use`);
    t.ok(err instanceof ControlPlaneError && (await gone([], err.dir)), 'temp dir removed');
  });

  t.test('is replaced by a free port when only preferred', async (t) => {
    const cp = await startControlPlane({ apiServerPort: taken });
    t.teardown(() => cp.stop());
    t.not(new URL(cp.server).port, String(taken));
    const namespaces = await loadKubeConfig(cp).makeApiClient(CoreV1Api).listNamespace();
    t.ok(namespaces.items.some((n) => n.metadata?.name === 'default'), 'the plane answers');
    await cp.stop();
    t.ok(await gone(Object.values(cp.pids), cp.dir), 'processes stopped and temp dir removed');
  });

  t.test('under the API server (lost race) is retried, then reported with its log', async (t) => {
    // The override makes every attempt bind the held port, as if another process took it after the probe.
    const err = await failedStart({ apiServerArgs: [`--secure-port=${taken}`] });
    t.type(err, ControlPlaneError);
    t.match(err.message, /kube-apiserver exited with code 1 before it was ready/);
    t.match(err.message, /address already in use/);
    t.ok(err instanceof ControlPlaneError && (await gone([], err.dir)), 'temp dir removed');
  });
});

t.test('an API server that never becomes ready', async (t) => {
  t.test('because it exits at once: the error quotes its log', async (t) => {
    const err = await failedStart({ apiServerArgs: ['--no-such-flag'] });
    t.type(err, ControlPlaneError);
    t.match(err.message, /kube-apiserver exited with code 1 before it was ready; last lines of .*kube-apiserver\.log:/);
    t.match(err.message, /unknown flag: --no-such-flag/);
    t.ok(err instanceof ControlPlaneError && (await gone([], err.dir)), 'temp dir removed');
  });

  t.test('because it keeps waiting: the start timeout ends it with its log', async (t) => {
    // Every etcd read of the readiness check times out at once, so /readyz never turns 200.
    // 20 s: long enough for the API server to start and answer /readyz even on a loaded machine.
    const err = await failedStart({ apiServerArgs: ['--etcd-readycheck-timeout=1ns'], startTimeoutMs: 20_000 });
    t.type(err, ControlPlaneError);
    t.match(err.message, /kube-apiserver not ready after 20000ms \(last answer: 500 \[-\]etcd-readiness failed[^)]*\); last lines of .*kube-apiserver\.log:/);
    t.match(err.message, /context deadline exceeded/, 'the log tail shows what it was waiting for');
    t.ok(err instanceof ControlPlaneError && (await gone([], err.dir)), 'temp dir removed');
  });
});

t.test('an owner that dies mid-way leaves nothing behind', async (t) => {
  for (const mode of ['throw', 'hang'] as const) {
    t.test(mode === 'throw' ? 'when it throws' : 'when it is SIGKILLed (as tap does on a timeout)', async (t) => {
      const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test', 'helpers', 'kube-owner-dies.ts'), mode], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      while (!stdout.includes('\n') && child.exitCode === null) await sleep(100);
      const info = JSON.parse(stdout.split('\n')[0] ?? '') as Pick<ControlPlaneInfo, 'dir' | 'pids' | 'kubeconfigPath'>;
      t.ok(existsSync(info.kubeconfigPath), 'the plane was up');
      if (mode === 'hang') child.kill('SIGKILL');
      const code = await exited;
      if (mode === 'throw') {
        t.equal(code, 1);
        t.match(stderr, /thrown mid-way/);
      }
      t.ok(await gone(Object.values(info.pids), info.dir), 'supervisor, etcd and kube-apiserver stopped; temp dir removed');
    });
  }
});
