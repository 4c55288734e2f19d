// The traffic redirect, for real: the script the injected init container runs (rendered by the template for a Pod
// with traffic annotations) is run with Debian's iptables in a network namespace made for the test, wired with a
// veth pair to a second namespace playing the rest of the cluster. Then real TCP connections, from processes
// running as the application's UID, the proxy's UID and GID, and others, show where each one lands: every
// connection into or out of the Pod reaches the proxy's ports, except the proxy's own, loopback, and the excluded
// ports and ranges; nothing else gets past. Needs root (network namespaces, iptables) and the iptables package.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { SidecarTemplate } from '../../src/admission/injection/sidecar.js';
import { redirectOf } from '../helpers/sidecar.js';

const run = promisify(execFile);

if (process.getuid?.() !== 0) throw new Error('test/sidecar/redirect-netns.test.ts needs root: it makes network namespaces and installs iptables rules in them');
for (const tool of ['/usr/sbin/iptables-nft-restore', '/usr/sbin/iptables-legacy-restore', '/usr/sbin/ip', '/usr/bin/setpriv']) {
  if (!existsSync(tool)) throw new Error(`${tool} is missing: install the Debian packages iptables, iproute2 and util-linux (apt-get install iptables iproute2 util-linux)`);
}

const id = randomBytes(3).toString('hex');
const dir = await mkdtemp(join(tmpdir(), 'portcullis-netns-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

// The Pod as the injector renders it: its annotations exclude one inbound port, one outbound port and one range.
const PEER = '10.213.0.1';
const PEER_EXCLUDED = '10.213.0.3';
const POD = '10.213.0.2';
const PEER6 = 'fd00:213::1';
const POD6 = 'fd00:213::2';
const render = (overrides: Record<string, string>) =>
  redirectOf(SidecarTemplate.load(undefined, []).sidecar({ namespace: 'payments', name: 'web', serviceAccount: 'web', cluster: { name: 'c', trustDomain: 'cluster.local' }, overrides, trustBundle: 'ca' }).initContainers[0]);
const script = render({ excludeInboundPorts: '9102', excludeOutboundPorts: '5432', excludeOutboundIPRanges: `${PEER_EXCLUDED}/32` });

const SERVER = `
const net = require('node:net');
for (const spec of process.argv.slice(2)) {
  const [port, label] = spec.split(':');
  net.createServer((s) => s.end(label + ' ' + s.localAddress.replace('::ffff:', '') + ' ' + s.remoteAddress.replace('::ffff:', '') + '\\n')).listen({ port: Number(port), host: '::', ipv6Only: false });
}
process.stdout.write('listening\\n');
`;
const serverFile = join(dir, 'server.cjs');
await writeFile(serverFile, SERVER);

const servers: ChildProcess[] = [];
const namespaces: string[] = [];
// Namespaces outlive the process that made them: removed on the way out, however the test ends.
const cleanUp = () => {
  for (const s of servers) s.kill('SIGKILL');
  for (const ns of namespaces.splice(0)) {
    try {
      execFileSync('ip', ['netns', 'del', ns]);
    } catch {
      // already gone
    }
  }
};
t.teardown(cleanUp);
process.on('exit', cleanUp);

async function ip(...args: string[]): Promise<void> {
  await run('ip', args);
}

/** A Pod namespace and a peer namespace, wired with a veth pair, IPv4 and IPv6. */
async function wire(name: string): Promise<{ pod: string; peer: string }> {
  const pod = `pc-${name}-pod-${id}`;
  const peer = `pc-${name}-peer-${id}`;
  for (const ns of [pod, peer]) {
    await ip('netns', 'add', ns);
    namespaces.push(ns);
    await ip('-n', ns, 'link', 'set', 'lo', 'up');
  }
  await ip('link', 'add', `vp${name}${id}`, 'netns', pod, 'type', 'veth', 'peer', 'name', `vq${name}${id}`, 'netns', peer);
  await ip('-n', pod, 'addr', 'add', `${POD}/24`, 'dev', `vp${name}${id}`);
  await ip('-n', pod, 'addr', 'add', `${POD6}/64`, 'dev', `vp${name}${id}`, 'nodad');
  await ip('-n', peer, 'addr', 'add', `${PEER}/24`, 'dev', `vq${name}${id}`);
  await ip('-n', peer, 'addr', 'add', `${PEER_EXCLUDED}/24`, 'dev', `vq${name}${id}`);
  await ip('-n', peer, 'addr', 'add', `${PEER6}/64`, 'dev', `vq${name}${id}`, 'nodad');
  for (const [ns, dev] of [[pod, `vp${name}${id}`], [peer, `vq${name}${id}`]] as const) await ip('-n', ns, 'link', 'set', dev, 'up');
  return { pod, peer };
}

async function serve(ns: string, specs: string[]): Promise<void> {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, serverFile, ...specs], { stdio: ['ignore', 'pipe', 'inherit'], env });
  servers.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout?.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`server in ${ns} exited (${code})`)));
  });
}

interface As {
  uid: number;
  gid: number;
  /** Supplementary groups. */
  groups?: number[];
}

/** What answers a TCP connection from `ns`, made by a process running as `as`: the label of the server reached. */
async function connect(ns: string, as: As, host: string, port: number): Promise<string> {
  const groups = as.groups?.length ? ['--groups', as.groups.join(',')] : ['--clear-groups'];
  const target = host.includes(':') ? `[${host}]` : host;
  const { stdout } = await run('ip', [
    'netns', 'exec', ns, 'setpriv', '--reuid', String(as.uid), '--regid', String(as.gid), ...groups,
    'timeout', '5', 'bash', '-c', `exec 3<>/dev/tcp/${host}/${port} && head -n1 <&3`,
  ]).catch((err: { stderr?: string }) => ({ stdout: `refused ${err.stderr?.trim() ?? ''} ${target}` }));
  return stdout.trim();
}

const app: As = { uid: 1000, gid: 1000 };
const proxy: As = { uid: 1337, gid: 1337 };

const main = await wire('a');
await run('ip', ['netns', 'exec', main.pod, 'sh', '-c', script]);
// In the Pod: the proxy's inbound and outbound ports, its health and metrics ports, the application's ports.
await serve(main.pod, ['15006:proxy-inbound', '15001:proxy-outbound', '15021:proxy-health', '15090:proxy-metrics', '8080:app-8080', '8081:app-8081', '9102:app-9102']);
// Elsewhere in the cluster.
await serve(main.peer, ['9000:peer-9000', '5432:peer-5432', '8080:peer-8080']);

t.test('the rules installed are the ones rendered', async (t) => {
  const [v4 = '', v6 = ''] = script.split('restore ip6tables');
  // Rules by chain, in their order (iptables-save lists the chains in its own order).
  const rules = (text: string) => {
    const chains: Record<string, string[]> = {};
    for (const l of text.split('\n').filter((line) => line.startsWith('-A '))) (chains[l.split(' ')[1] as string] ??= []).push(l);
    return chains;
  };
  for (const [save, text] of [['iptables-nft-save', v4], ['ip6tables-nft-save', v6]] as const) {
    const { stdout } = await run('ip', ['netns', 'exec', main.pod, save, '-t', 'nat']);
    t.same(rules(stdout), rules(text), `${save}: exactly the rendered rules, each chain in its order`);
  }
});

t.test('inbound: every connection to the Pod reaches the proxy, but its own ports and the excluded one', async (t) => {
  for (const port of [8080, 8081, 443, 22]) t.match(await connect(main.peer, app, POD, port), /^proxy-inbound /, `port ${port} goes to the proxy`);
  t.match(await connect(main.peer, { uid: 0, gid: 0 }, POD, 8080), /^proxy-inbound /, 'whoever connects');
  t.match(await connect(main.peer, proxy, POD, 8080), /^proxy-inbound /, "a peer's proxy too: the UID exemption is only for the Pod's own");
  t.match(await connect(main.peer, app, POD, 15021), /^proxy-health /, 'the health port, directly');
  t.match(await connect(main.peer, app, POD, 15090), /^proxy-metrics /, 'the metrics port, directly');
  t.match(await connect(main.peer, app, POD, 9102), /^app-9102 /, 'the excluded inbound port bypasses the proxy');
});

t.test('outbound: every connection the application opens reaches the proxy', async (t) => {
  t.match(await connect(main.pod, app, PEER, 9000), /^proxy-outbound /, 'the application, as its own UID');
  t.match(await connect(main.pod, app, PEER, 8080), /^proxy-outbound /, 'any port');
  t.match(await connect(main.pod, { uid: 0, gid: 0 }, PEER, 9000), /^proxy-outbound /, 'root too');
  t.match(await connect(main.pod, { uid: 1000, gid: 1000, groups: [1337] }, PEER, 9000), /^proxy-outbound /, 'the proxy GID as a supplementary group is no way around it');
  t.match(await connect(main.pod, { uid: 1338, gid: 1336 }, PEER, 9000), /^proxy-outbound /, 'the UIDs next to it neither');
});

t.test("the proxy's own connections do not loop", async (t) => {
  t.match(await connect(main.pod, proxy, PEER, 9000), /^peer-9000 10\.213\.0\.1 /, 'the proxy reaches the destination itself');
  t.match(await connect(main.pod, proxy, POD, 8080), /^app-8080 /, 'and the application, to hand it inbound traffic');
  t.match(await connect(main.pod, { uid: 1000, gid: 1337 }, PEER, 9000), /^peer-9000 /, "its GID as primary group is let through: that is why admission reserves it (proxy-uid-reserved)");
  t.match(await connect(main.pod, { uid: 1337, gid: 1000 }, PEER, 9000), /^peer-9000 /, 'and its UID: the same');
});

t.test('excluded ports and ranges bypass; loopback is left alone', async (t) => {
  t.match(await connect(main.pod, app, PEER, 5432), /^peer-5432 /, 'the excluded outbound port');
  t.match(await connect(main.pod, app, PEER_EXCLUDED, 9000), /^peer-9000 10\.213\.0\.3 /, 'the excluded range');
  t.match(await connect(main.pod, app, PEER_EXCLUDED, 8080), /^peer-8080 /, 'on any port');
  t.match(await connect(main.pod, app, '127.0.0.1', 8080), /^app-8080 /, 'localhost');
  t.match(await connect(main.pod, app, POD, 8081), /^app-8081 /, "the Pod's own address (over loopback)");
});

t.test('IPv6 alike', async (t) => {
  t.match(await connect(main.peer, app, POD6, 8080), /^proxy-inbound /, 'inbound');
  t.match(await connect(main.pod, app, PEER6, 9000), /^proxy-outbound /, 'outbound');
  t.match(await connect(main.pod, proxy, PEER6, 9000), /^peer-9000 /, "the proxy's own");
  t.match(await connect(main.pod, app, '::1', 8080), /^app-8080 /, 'loopback');
});

t.test('includeOutboundIPRanges: only those ranges go through the proxy', async (t) => {
  const only = await wire('b');
  await run('ip', ['netns', 'exec', only.pod, 'sh', '-c', render({ includeOutboundIPRanges: `${PEER}/32` })]);
  await serve(only.pod, ['15001:proxy-outbound', '15006:proxy-inbound']);
  await serve(only.peer, ['9000:peer-9000']);
  t.match(await connect(only.pod, app, PEER, 9000), /^proxy-outbound /, 'an included range');
  t.match(await connect(only.pod, app, PEER_EXCLUDED, 9000), /^peer-9000 /, 'anything else is left out (which is why admission allows only "*")');
});

t.test('the legacy back end when nf_tables is not there; nothing installed is a failed init container', async (t) => {
  const legacy = await wire('c');
  const shim = join(dir, 'legacy-only');
  await run('mkdir', ['-p', shim]);
  for (const tool of ['iptables-legacy-restore', 'ip6tables-legacy-restore']) await symlink(`/usr/sbin/${tool}`, join(shim, tool)).catch(() => undefined);
  const env = { ...process.env, PATH: `${shim}:/usr/bin:/bin` };
  const { stdout } = await run('ip', ['netns', 'exec', legacy.pod, 'sh', '-c', script], { env });
  t.match(stdout, /traffic redirect installed/);
  const saved = await run('ip', ['netns', 'exec', legacy.pod, 'iptables-legacy-save', '-t', 'nat']);
  t.match(saved.stdout, /-A PORTCULLIS_OUTPUT -m owner --uid-owner 1337 -j RETURN/, 'the same rules, with the legacy back end');
  await serve(legacy.pod, ['15001:proxy-outbound']);
  await serve(legacy.peer, ['9000:peer-9000']);
  t.match(await connect(legacy.pod, app, PEER, 9000), /^proxy-outbound /, 'and they redirect the same');

  const none = await wire('d');
  const empty = join(dir, 'no-iptables');
  await run('mkdir', ['-p', empty]);
  const failed = await run('ip', ['netns', 'exec', none.pod, 'sh', '-c', script], { env: { ...process.env, PATH: `${empty}:/usr/bin:/bin` } }).then(
    () => undefined,
    (err: { code?: number }) => err,
  );
  t.ok(failed && failed.code !== 0, 'the script fails, so the Pod does not start without its redirect');
});
