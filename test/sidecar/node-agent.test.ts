// The node redirect mode end to end, with real parts: a Pod created through a kube-apiserver whose webhooks are
// Portcullis' (injection in node mode) and whose PodSecurity plugin enforces the restricted level on the
// namespace; its sandbox simulated on this machine as the kubelet makes one (a network namespace holding a
// process in the cgroup `kubepods/.../pod<uid>/<container>`); `portcullis node-agent` run against the API
// server with that node's name. Real TCP connections show the redirect works once the agent ran, the
// validation container's own program fails before and passes after, a sandbox made again gets the rules
// again, a forged injection gets nothing, and a Pod whose sandbox cannot be found harms nothing.
// Needs root (network namespaces, cgroups, iptables) and Debian's iptables, iproute2 and util-linux.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import t, { type Test } from 'tap';
import type { DecisionEvent } from '../../src/audit/event.js';
import { startNodeAgent, type RunningNodeAgent } from '../../src/server/node-agent.js';
import { loadKubeConfig, sharedControlPlane } from '../helpers/controlplane.js';
import { compliantPod, proxies } from '../helpers/kube-pods.js';
import { registerWebhook, shippedWebhook } from '../helpers/kube-webhooks.js';
import { ROOT } from '../helpers/paths.js';
import { startHarness } from '../admission/service.js';
import { meshNamespaceFacts } from '../e2e/mesh-facts.js';

const run = promisify(execFile);
const TOOLS = ['/usr/sbin/iptables-nft-restore', '/usr/sbin/iptables-nft-save', '/usr/sbin/ip', '/usr/bin/nsenter', '/usr/bin/setpriv'];
const notRoot = process.getuid?.() !== 0;

if (notRoot) t.plan(0, 'needs root: it makes network namespaces and cgroups and installs iptables rules in them');
else {
  for (const tool of TOOLS) if (!existsSync(tool)) throw new Error(`${tool} is missing: apt-get install iptables iproute2 util-linux`);
  t.setTimeout(300_000);
  // One test holding the steps, in order: its teardowns undo the sandboxes once all of them ran.
  await t.test('the node redirect mode, end to end', main);
}

async function main(t: Test): Promise<void> {
  const id = randomBytes(3).toString('hex');
  const node = `node-${id}`;
  const namespace = `node-e2e-${id}`;
  const elsewhere = `node-forged-${id}`;
  const testLabel = 'portcullis.test/node-agent';
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-node-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));

  // Everything made on this machine, undone however the test ends.
  const processes: ChildProcess[] = [];
  const netnses: string[] = [];
  const cgroups: string[] = [];
  const cleanUp = () => {
    for (const p of processes.splice(0)) p.kill('SIGKILL');
    for (const ns of netnses.splice(0)) {
      try {
        execFileSync('ip', ['netns', 'del', ns]);
      } catch {
        // already gone
      }
    }
  };
  process.on('exit', cleanUp);
  t.teardown(async () => {
    const exited = processes.map((p) => (p.exitCode === null && p.signalCode === null ? new Promise((r) => p.once('exit', r)) : undefined));
    cleanUp();
    await Promise.all(exited);
    // A cgroup goes once its processes have: deepest first, and only the ones made here (kubepods may be shared).
    for (const cg of cgroups.splice(0).reverse()) {
      for (let i = 0; i < 50; i++) {
        try {
          await rmdir(cg);
          break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') break;
          if (i === 49) throw new Error(`cgroup ${cg} could not be removed: ${(err as Error).message}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    }
  });

  const plane = await sharedControlPlane();
  const kc = loadKubeConfig(plane);
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: namespace, labels: { [testLabel]: id, 'portcullis.io/injection': 'enabled' } } } });
  await core.createNamespace({ body: { metadata: { name: elsewhere } } });
  t.teardown(() => Promise.all([namespace, elsewhere].map((name) => core.deleteNamespace({ name }).catch(() => undefined))).then(() => undefined));
  for (const ns of [namespace, elsewhere]) await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'web' } } });

  const facts = await meshNamespaceFacts(t, kc, namespace);
  const injection = { redirect: 'node' };
  const h = await startHarness({ facts, config: { admission: { injection } } });
  t.teardown(() => h.close());

  // A restricted-compliant application Pod, bound to the simulated node.
  const appPod = (name: string, edit: (p: V1Pod) => void = () => {}) =>
    compliantPod(name, (p) => {
      p.spec!.nodeName = node;
      p.spec!.securityContext = { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } };
      p.spec!.containers[0]!.securityContext = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } };
      edit(p);
    });

  const manifest = (file: 'validating.yaml' | 'mutating.yaml', path: string) =>
    shippedWebhook(file, { port: h.port, ca: h.ca, path }, { label: testLabel, value: id, suffix: `${id}` });
  const validating = await registerWebhook(kc, await manifest('validating.yaml', '/validate'), {
    until: async () => !(await core.createNamespacedPod({ namespace, dryRun: 'All', body: appPod('probe', (p) => (p.spec!.hostPID = true)) }).then(() => true, () => false)),
  });
  t.teardown(() => validating.remove());
  const mutating = await registerWebhook(kc, await manifest('mutating.yaml', '/mutate'), {
    until: async () => proxies(await core.createNamespacedPod({ namespace, dryRun: 'All', body: appPod('probe') })) === 1,
  });
  t.teardown(() => mutating.remove());
  // Only now the namespace enforces restricted (the probes above are not all compliant), for the API server's plugin and Portcullis' rules alike.
  await core.patchNamespace({ name: namespace, body: [{ op: 'add', path: '/metadata/labels/pod-security.kubernetes.io~1enforce', value: 'restricted' }] });
  for (let i = 0; facts.namespace(namespace)?.labels['pod-security.kubernetes.io/enforce'] !== 'restricted'; i++) {
    if (i > 200) throw new Error('the informer never saw the pod-security label');
    await new Promise((r) => setTimeout(r, 50));
  }

  const web = await core.createNamespacedPod({ namespace, body: appPod('web') });
  const lost = await core.createNamespacedPod({ namespace, body: appPod('lost') });
  // The same sidecar with another proxy image, where no webhook looks (a namespace the webhooks do not select).
  const forged = await core.createNamespacedPod({
    namespace: elsewhere,
    body: {
      metadata: { name: 'forged', annotations: web.metadata?.annotations, labels: web.metadata?.labels },
      spec: { ...structuredClone(web.spec!), containers: web.spec!.containers.map((c) => (c.name === 'portcullis-proxy' ? { ...c, image: 'registry.example.com/not-envoy:1' } : c)) },
    },
  });
  const validation = web.spec?.initContainers?.[0];

  await t.test('the Pod is stored at the restricted level with the validation container, no portcullis-init', async (t) => {
    t.same(web.spec?.initContainers?.map((c) => c.name), ['portcullis-validation'], 'the API server and its PodSecurity plugin took it');
    t.equal(proxies(web), 1);
    t.equal(validation?.securityContext?.runAsNonRoot, true);
    t.same(validation?.securityContext?.capabilities, { drop: ['ALL'] });
    const refused = await core.createNamespacedPod({ namespace, dryRun: 'All', body: appPod('root', (p) => (p.spec!.containers[0]!.securityContext = { runAsUser: 0 })) }).then(
      () => undefined,
      (err: { body?: unknown }) => String(err.body),
    );
    t.match(refused, /restricted|runAsNonRoot|runAsUser/, 'the namespace does enforce restricted');
  });

  // The Pods' sandboxes: a network namespace wired to a peer standing for the cluster, and a process of the
  // Pod in the kubelet's cgroup for it (cgroup v1 with the cgroupfs driver's path, v2 with the systemd one's).
  const POD_IP = '10.214.0.2';
  const PEER_IP = '10.214.0.1';
  let sandboxes = 0;
  async function sandbox(pod: V1Pod, style: 'v1' | 'v2'): Promise<{ ns: string; peer: string; process: ChildProcess }> {
    const n = ++sandboxes;
    const ns = `pc-node-${id}-${n}`;
    const peer = `pc-peer-${id}-${n}`;
    for (const name of [ns, peer]) {
      await run('ip', ['netns', 'add', name]);
      netnses.push(name);
      await run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    }
    await run('ip', ['link', 'add', `vn${id}${n}`, 'netns', ns, 'type', 'veth', 'peer', 'name', `vm${id}${n}`, 'netns', peer]);
    await run('ip', ['-n', ns, 'addr', 'add', `${POD_IP}/24`, 'dev', `vn${id}${n}`]);
    await run('ip', ['-n', peer, 'addr', 'add', `${PEER_IP}/24`, 'dev', `vm${id}${n}`]);
    await run('ip', ['-n', ns, 'link', 'set', `vn${id}${n}`, 'up']);
    await run('ip', ['-n', peer, 'link', 'set', `vm${id}${n}`, 'up']);
    await run('ip', ['-n', ns, 'route', 'add', 'default', 'via', PEER_IP]);
    const uid = pod.metadata!.uid!;
    const container = randomBytes(8).toString('hex');
    const levels =
      style === 'v1'
        ? ['/sys/fs/cgroup/pids/kubepods', 'besteffort', `pod${uid}`, container]
        : ['/sys/fs/cgroup/unified/kubepods.slice', 'kubepods-besteffort.slice', `kubepods-besteffort-pod${uid.replace(/-/g, '_')}.slice`, `cri-containerd-${container}.scope`];
    let path = '';
    for (const level of levels) {
      path = path ? join(path, level) : level;
      if (!existsSync(path)) {
        await mkdir(path);
        cgroups.push(path);
      }
    }
    const child = spawn('ip', ['netns', 'exec', ns, 'sleep', '3600'], { stdio: 'ignore' });
    processes.push(child);
    await new Promise((r) => setTimeout(r, 100));
    await writeFile(join(path, 'cgroup.procs'), String(child.pid));
    return { ns, peer, process: child };
  }

  /** The validation container's program, as the stored Pod runs it, in a sandbox as its UID and GID. */
  async function check(ns: string, timeoutSeconds: number): Promise<{ code: number; out: string }> {
    const args = (validation?.args ?? []).map((a) => (a.startsWith('--timeout-seconds=') ? `--timeout-seconds=${timeoutSeconds}` : a));
    const uid = String(validation?.securityContext?.runAsUser);
    const gid = String(validation?.securityContext?.runAsGroup);
    // Nothing of the test runner's environment (its NODE_OPTIONS hooks): the program alone.
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp' };
    return new Promise((resolve) => {
      const child = spawn('ip', ['netns', 'exec', ns, 'setpriv', '--reuid', uid, '--regid', gid, '--clear-groups', process.execPath, '--import', 'tsx', join(ROOT, 'src', 'cli.ts'), ...args], { cwd: ROOT, env });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (out += c.toString()));
      child.on('close', (code) => resolve({ code: code ?? -1, out }));
    });
  }

  const nat = async (ns: string) => (await run('ip', ['netns', 'exec', ns, 'iptables-nft-save', '-t', 'nat'])).stdout;

  const webBox = await sandbox(web, 'v1');
  const forgedBox = await sandbox(forged, 'v2');

  await t.test('before the agent: no redirect, and the validation container fails', async (t) => {
    t.notMatch(await nat(webBox.ns), /PORTCULLIS/);
    const before = await check(webBox.ns, 2);
    t.equal(before.code, 1, 'it exits non-zero: the kubelet runs it again, the application does not start');
    t.match(before.out, /no traffic redirect after 2 s/);
  });

  // The agent, with the service's configuration file, against the API server, for this node. Its iptables
  // runs in a mount namespace it enters, as the chart's runs in the node's (this machine's PID 1 is not ours to enter).
  const auditFile = join(dir, 'audit.log');
  const configFile = join(dir, 'config.yaml');
  await writeFile(configFile, JSON.stringify({ log: { level: 'silent' }, kubernetes: { kubeconfig: plane.kubeconfigPath }, admission: { injection }, audit: { sinks: [{ type: 'file', path: auditFile }] } }));
  const freePort = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
  const startAgent = () => startNodeAgent(['--config', configFile, '--node-name', node, '--port', String(freePort), '--sweep-seconds', '0.2', '--iptables-mount-namespace', '/proc/self/ns/mnt']);
  let agent: RunningNodeAgent | undefined = await startAgent();
  t.teardown(() => agent?.stop());

  const events = async (): Promise<DecisionEvent[]> => {
    const text = await readFile(auditFile, 'utf8').catch(() => '');
    return text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as DecisionEvent);
  };
  const eventually = async <T>(what: string, get: () => Promise<T | undefined>): Promise<T> => {
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
      const v = await get();
      if (v !== undefined) return v;
    }
    throw new Error(`timed out waiting for ${what}`);
  };
  const installedIn = (pod: string, n: number) => eventually(`${n} installation(s) for ${pod}`, async () => {
    const found = (await events()).filter((e) => e.node?.pod === pod && e.node.result === 'installed');
    return found.length >= n ? found : undefined;
  });
  const metrics = async () => (await fetch(`http://127.0.0.1:${freePort}/metrics`)).text();

  await t.test('after the agent: the rules are in place and every connection goes to the proxy', async (t) => {
    const [installed] = await installedIn('web', 1);
    t.match(installed, { kind: 'node', path: 'node/redirect', decision: 'allow', node: { node, namespace, pod: 'web', uid: web.metadata?.uid, result: 'installed', netns: Number } }, 'audited');
    const saved = await nat(webBox.ns);
    t.match(saved, /-A PORTCULLIS_OUTPUT -m owner --uid-owner 1337 -j RETURN/);
    t.match(saved, /-A PORTCULLIS_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15006/);
    t.match(saved, /-A OUTPUT -p tcp -j PORTCULLIS_OUTPUT/);

    const after = await check(webBox.ns, 20);
    t.equal(after.code, 0, 'the validation container passes: its connection went through the redirect');
    t.match(after.out, /traffic redirect in place/);

    // Inbound: a connection from the cluster to the application's port lands on the proxy's inbound port.
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    const server = spawn('ip', ['netns', 'exec', webBox.ns, process.execPath, '-e', "for (const [p, l] of [[15006, 'proxy-inbound'], [8080, 'application']]) require('node:net').createServer((s) => s.end(l)).listen(p); console.log('up')"], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    processes.push(server);
    await new Promise((r) => server.stdout?.once('data', r));
    const { stdout } = await run('ip', ['netns', 'exec', webBox.peer, process.execPath, '-e', `require('node:net').connect(8080, '${POD_IP}').on('data', (d) => process.stdout.write(d))`], { env });
    t.equal(stdout, 'proxy-inbound', 'inbound to :8080 reached the proxy, not the application');
    server.kill('SIGKILL');
  });

  await t.test('a forged injection gets nothing; a Pod without a sandbox harms nothing', async (t) => {
    const refused = await eventually('the forged Pod refused', async () => (await events()).find((e) => e.node?.pod === 'forged'));
    t.match(refused, { decision: 'deny', node: { result: 'refused', namespace: elsewhere, reason: /"portcullis-proxy" differs in .*image/ } });
    t.notMatch(await nat(forgedBox.ns), /PORTCULLIS/, 'no rule in its namespace');
    t.notOk((await events()).some((e) => e.node?.pod === 'lost' && e.node.result === 'installed'), 'the Pod without a sandbox: nothing installed');
    t.equal((await fetch(`http://127.0.0.1:${freePort}/healthz`)).status, 200, 'the agent is up');
    const text = await metrics();
    t.match(text, /portcullis_node_redirect_total\{result="installed"\} 1/);
    t.match(text, /portcullis_node_redirect_total\{result="refused"\} 1/);
    t.equal(lost.spec?.nodeName, node);
  });

  await t.test('a sandbox made again gets the rules again; rules already there are left alone', async (t) => {
    const [first] = await installedIn('web', 1);
    webBox.process.kill('SIGKILL');
    await run('ip', ['netns', 'del', webBox.ns]);
    const again = await sandbox(web, 'v1');
    const installs = await installedIn('web', 2);
    t.not(installs[1]?.node?.pid, first?.node?.pid, "in the new sandbox (its process; the kernel may give the new namespace the old one's inode)");
    t.equal((await check(again.ns, 20)).code, 0, 'and the validation container passes there');

    // A new agent (a restart) finds the rules in place: nothing is installed twice.
    await agent?.stop();
    agent = await startAgent();
    await agent.agent.whenSynced(10_000);
    await eventually('the restarted agent to look', async () => ((await metrics()).match(/result="unchanged"\} 1/) ? true : undefined));
    t.equal((await events()).filter((e) => e.node?.pod === 'web' && e.node.result === 'installed').length, 2, 'no new installation');
    t.equal((await nat(again.ns)).match(/-A OUTPUT -p tcp -j PORTCULLIS_OUTPUT/g)?.length, 1, 'each rule once');
  });
}
