import { createHash } from 'node:crypto';
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { Counter, type Registry } from 'prom-client';
import type { NodeRedirectSummary } from '../audit/event.js';
import { describe } from '../kube/errors.js';
import { Reflector } from '../kube/reflector.js';
import { installRedirect, type InstallTools, type RedirectRules } from './install.js';
import { scanPodNetns, type PodNetns } from './netns.js';

/** Whether a Pod was injected in node mode, and its rules if so (the injector's claim check, done by the caller). */
export type Confirm = (pod: V1Pod) => { rules: RedirectRules } | { refused: string };

export interface NodeAgentOptions {
  nodeName: string;
  kc: KubeConfig;
  /** The host's /proc (hostPID: /proc; else where the host's is mounted). */
  procRoot: string;
  tools: InstallTools;
  confirm: Confirm;
  /** How often the node's Pods are looked for again: sandboxes that appear or are made again. */
  sweepMs: number;
  resyncMs: number;
  watchTimeoutSeconds: number;
  retryMs: number;
  registry: Registry;
  audit(summary: NodeRedirectSummary, error?: string): void;
  log: { debug(obj: object, msg: string): void; info(obj: object, msg: string): void; warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

interface Known {
  pod: V1Pod;
  /** The resourceVersion confirmed, and what came of it. */
  confirmedAt?: string;
  rules?: RedirectRules;
  /**
   * The sandbox the rules are in: its namespace's inode and the process found in it. An inode alone is no
   * identity, the kernel gives a freed namespace's number to the next one; a new sandbox is a new process.
   */
  installedIn?: string;
  /** The last failure and refusal reported, so a Pod that keeps failing the same way is not audited every sweep or status update. */
  lastFailure?: string;
  lastRefusal?: string;
  waitingLogged?: boolean;
}

/**
 * `portcullis node-agent`: installs the traffic redirect of the Pods of its node that were injected in node
 * mode (admission.injection.redirect: node) from the node, so that no container of the Pod needs NET_ADMIN.
 * It watches the Pods of its node only (field selector spec.nodeName), confirms each one's injection with
 * the injector's own check (a status annotation alone gets nothing), finds its network namespace from the
 * host's /proc and installs exactly the rules the init container would have (install.ts). One Pod at a time,
 * in one loop: a bad Pod is logged, counted and audited, never a crash. A sandbox made again (a new network
 * namespace) gets the rules again; one that already has them is left alone.
 */
export class NodeAgent {
  private readonly pods: Reflector<V1Pod, V1Pod>;
  private readonly known = new Map<string, Known>();
  private readonly results: Counter<'result'>;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private again = false;
  private busy = false;
  private stopped = false;

  constructor(private readonly o: NodeAgentOptions) {
    const api = o.kc.makeApiClient(CoreV1Api);
    const fieldSelector = `spec.nodeName=${o.nodeName}`;
    this.pods = new Reflector<V1Pod, V1Pod>({
      name: 'node pods',
      kc: o.kc,
      path: '/api/v1/pods',
      fieldSelector,
      list: (page) => api.listPodForAllNamespaces({ ...page, fieldSelector }),
      keep: (pod) => pod,
      resyncMs: o.resyncMs,
      watchTimeoutSeconds: o.watchTimeoutSeconds,
      retryMs: o.retryMs,
      log: o.log,
    });
    const seen = (pod: V1Pod) => {
      const uid = pod.metadata?.uid;
      if (!uid) return;
      const k = this.known.get(uid);
      if (k) k.pod = pod;
      else this.known.set(uid, { pod });
      this.kick();
    };
    this.pods.on('add', seen);
    this.pods.on('update', (_, pod) => seen(pod));
    this.pods.on('delete', (pod) => {
      if (pod.metadata?.uid) this.known.delete(pod.metadata.uid);
    });
    this.results = new Counter({
      name: 'portcullis_node_redirect_total',
      help: 'Pods of this node whose traffic redirect the node agent handled, by result: installed, unchanged (already there), refused (injection not confirmed), failed',
      labelNames: ['result'],
      registers: [o.registry],
    });
  }

  start(): void {
    this.pods.start();
    this.timer = setInterval(() => this.kick(), this.o.sweepMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.pods.stop();
    await this.running;
  }

  whenSynced(timeoutMs: number): Promise<void> {
    return this.pods.whenSynced(timeoutMs);
  }

  synced(): boolean {
    return this.pods.synced();
  }

  /** Resolves once a pass that started after this call has ended. */
  async settle(): Promise<void> {
    this.kick();
    await this.running;
  }

  /** Starts a pass over the node's Pods, or asks for another after the current one. */
  private kick(): void {
    if (this.stopped) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.pass();
        } catch (err) {
          this.o.log.error({ err: describe(err) }, 'node agent pass failed; retried at the next sweep');
        }
      } while (this.again && !this.stopped);
      this.busy = false;
    })();
  }

  private async pass(): Promise<void> {
    const waiting = [...this.known.entries()].filter(([, k]) => this.wanted(k));
    if (waiting.length === 0) return;
    let sandboxes: Map<string, PodNetns> | undefined;
    for (const [uid, k] of waiting) {
      if (this.stopped) return;
      if (k.rules === undefined) continue;
      sandboxes ??= await scanPodNetns(this.o.procRoot);
      const netns = sandboxes.get(uid);
      if (!netns) {
        if (!k.waitingLogged) this.o.log.info({ pod: podName(k.pod), uid }, 'waiting for the Pod\'s sandbox (no process of it on this node yet)');
        k.waitingLogged = true;
        continue;
      }
      if (k.installedIn === sandboxKey(netns)) continue;
      await this.install(uid, k, netns);
    }
  }

  /** Confirms a Pod (again, when it changed); true when it may need rules. */
  private wanted(k: Known): boolean {
    const pod = k.pod;
    if (pod.metadata?.deletionTimestamp || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return false;
    const version = pod.metadata?.resourceVersion ?? '';
    if (k.confirmedAt !== version) {
      k.confirmedAt = version;
      let verdict: ReturnType<Confirm>;
      try {
        verdict = this.o.confirm(pod);
      } catch (err) {
        verdict = { refused: `cannot be checked: ${describe(err)}` };
      }
      if ('refused' in verdict) {
        const hadRules = k.rules !== undefined;
        delete k.rules;
        // Most Pods of a node are simply not in the mesh: only a claim that does not hold is worth a warning.
        const claimed = pod.metadata?.annotations?.['sidecar.portcullis.io/status'] !== undefined;
        if ((claimed || hadRules) && k.lastRefusal !== verdict.refused) {
          this.results.inc({ result: 'refused' });
          this.o.log.warn({ pod: podName(pod), reason: verdict.refused }, 'not installing the traffic redirect: the Pod\'s injection is not confirmed');
          this.o.audit(this.summary(pod, 'refused', verdict.refused), verdict.refused);
        } else if (!claimed) this.o.log.debug({ pod: podName(pod) }, 'not injected: no redirect');
        k.lastRefusal = verdict.refused;
      } else {
        k.rules = verdict.rules;
        delete k.lastRefusal;
      }
    }
    return k.rules !== undefined;
  }

  private async install(uid: string, k: Known, netns: PodNetns): Promise<void> {
    const pod = k.pod;
    try {
      const result = await installRedirect({ ...netns, procRoot: this.o.procRoot }, k.rules as RedirectRules, this.o.tools);
      k.installedIn = sandboxKey(netns);
      delete k.lastFailure;
      this.results.inc({ result });
      if (result === 'installed') {
        this.o.log.info({ pod: podName(pod), uid, netns: netns.inode, rules: digest(k.rules as RedirectRules) }, 'traffic redirect installed');
        this.o.audit({ ...this.summary(pod, 'installed', 'traffic redirect installed'), netns: netns.inode, pid: netns.pid });
      } else this.o.log.info({ pod: podName(pod), uid, netns: netns.inode }, 'traffic redirect already in place');
    } catch (err) {
      const reason = describe(err);
      this.results.inc({ result: 'failed' });
      this.o.log.error({ pod: podName(pod), uid, netns: netns.inode, err: reason }, 'traffic redirect not installed; retried at the next sweep');
      if (k.lastFailure !== reason) this.o.audit({ ...this.summary(pod, 'failed', reason), netns: netns.inode, pid: netns.pid }, reason);
      k.lastFailure = reason;
    }
  }

  private summary(pod: V1Pod, result: NodeRedirectSummary['result'], reason: string): NodeRedirectSummary {
    return { node: this.o.nodeName, namespace: pod.metadata?.namespace ?? '', pod: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '', result, reason };
  }
}

/** As the validation container's --rules-sha256 says it (redirect.ts rulesDigest): an operator can match the two. */
const digest = (rules: RedirectRules) => `sha256:${createHash('sha256').update(rules.ipv4).update(rules.ipv6).digest('hex')}`;

const sandboxKey = (netns: PodNetns) => `${netns.inode}:${netns.pid}`;

const podName = (pod: V1Pod) => `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
