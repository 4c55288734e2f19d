import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

/** The nat rules of a Pod, as src/admission/injection/redirect.ts renders them for the init container. */
export interface RedirectRules {
  ipv4: string;
  ipv6: string;
}

export interface InstallTools {
  /** util-linux's nsenter. */
  nsenter: string;
  /** Where iptables' programs are: iptables-nft-restore, ip6tables-legacy-save, ... */
  sbin: string;
  /** Each program's time to finish. */
  timeoutMs: number;
  /**
   * Run iptables from this mount namespace (the node's: <host /proc>/1/ns/mnt), so the node's own iptables
   * does the work; unset, the agent's own file system's.
   */
  mountNamespace?: string;
}

export type Installed = 'installed' | 'unchanged';

/**
 * Installs a Pod's redirect in its network namespace from the node: the same rules the init container
 * would apply, handed to iptables-restore under `nsenter --net`, nf_tables first and the legacy back end
 * only when nf_tables is not there (as the init container's script does), the whole table or nothing. IPv6
 * rules too wherever the namespace has IPv6. Already there (the rules' every line is in the table):
 * nothing is done. Our chains there with other rules: refused, nothing is changed (a sandbox the kubelet
 * makes again is a new namespace, so this is someone else's doing).
 */
export async function installRedirect(netns: { path: string; pid: number; inode: number; procRoot: string }, rules: RedirectRules, tools: InstallTools): Promise<Installed> {
  // The namespace is held open and handed to nsenter as a descriptor: the process found may end and its PID
  // go to another one (the node's own, say) between the scan and now, but an open namespace stays itself.
  const handle = await open(netns.path, 'r');
  try {
    if ((await handle.stat()).ino !== netns.inode) throw new Error(`process ${netns.pid} is no longer in the sandbox's network namespace`);
    const held = { fd: handle.fd, path: '/proc/self/fd/3' };
    const families: Array<['iptables' | 'ip6tables', string]> = [['iptables', rules.ipv4]];
    if (existsSync(join(netns.procRoot, String(netns.pid), 'net', 'if_inet6'))) families.push(['ip6tables', rules.ipv6]);
    let changed = false;
    for (const [family, text] of families) {
      const state = await current(held, family, text, tools);
      if (state === 'present') continue;
      if (state === 'different') throw new Error(`${family}: the namespace holds Portcullis chains with other rules; not touched`);
      await restore(held, family, text, tools);
      if ((await current(held, family, text, tools)) !== 'present') throw new Error(`${family}: the rules are not in the nat table after iptables-restore`);
      changed = true;
    }
    return changed ? 'installed' : 'unchanged';
  } finally {
    await handle.close();
  }
}

/** The namespace as nsenter sees it: the descriptor it inherits as its fd 3. */
interface Held {
  fd: number;
  path: string;
}

/** The rule lines of a table, normalised as iptables-save writes them. */
const ruleLines = (text: string) => text.split('\n').filter((l) => l.startsWith('-A '));

async function current(netns: Held, family: string, text: string, tools: InstallTools): Promise<'present' | 'absent' | 'different'> {
  const want = ruleLines(text);
  for (const backend of ['nft', 'legacy']) {
    const saved = await run(tools, netns, [...enter(netns, tools), join(tools.sbin, `${family}-${backend}-save`), '-t', 'nat'], '').catch(() => undefined);
    if (saved === undefined) continue;
    const have = new Set(ruleLines(saved));
    if (want.every((l) => have.has(l))) return 'present';
    if ([...have].some((l) => l.includes('PORTCULLIS_'))) return 'different';
  }
  return 'absent';
}

async function restore(netns: Held, family: string, text: string, tools: InstallTools): Promise<void> {
  const errors: string[] = [];
  for (const backend of ['nft', 'legacy']) {
    try {
      await run(tools, netns, [...enter(netns, tools), join(tools.sbin, `${family}-${backend}-restore`), '--noflush'], text);
      return;
    } catch (err) {
      errors.push(`${backend}: ${(err as Error).message}`);
    }
  }
  throw new Error(`${family}-restore failed (${errors.join('; ')})`);
}

const enter = (netns: Held, tools: InstallTools) => [...(tools.mountNamespace ? [`--mount=${tools.mountNamespace}`] : []), `--net=${netns.path}`, '--'];

function run(tools: InstallTools, netns: Held, args: string[], input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(tools.nsenter, args, { stdio: ['pipe', 'pipe', 'pipe', netns.fd], timeout: tools.timeoutMs, killSignal: 'SIGKILL' });
    const [stdin, stdout, stderr] = [child.stdin, child.stdout, child.stderr] as [Writable, Readable, Readable];
    let out = '';
    let err = '';
    stdout.on('data', (c: Buffer) => (out += c.toString()));
    stderr.on('data', (c: Buffer) => (err += c.toString()));
    stdin.on('error', () => undefined);
    child.once('error', (e) => reject(e));
    child.once('close', (code, signal) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${args[args.indexOf('--') + 1] ?? tools.nsenter} ${signal ? `killed (${signal})` : `exited ${code}`}: ${err.trim().split('\n').slice(-2).join(' ') || '(no output)'}`));
    });
    stdin.end(input);
  });
}
