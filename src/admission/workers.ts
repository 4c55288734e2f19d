import { Worker } from 'node:worker_threads';
import type { NamespaceInfo } from '../facts/facts.js';
import type { Snapshot, SnapshotSource } from '../policy/engine.js';
import type { Context } from '../server/context.js';
import type { InjectionConfig } from './config.js';
import type { Decision, DecideDeps, NamespaceRead, UnknownNamespace, Webhook } from './decide.js';

/** What a decision worker is started with (workerData). */
export interface WorkerSetup {
  injection: InjectionConfig;
  cluster: { name: string; trustDomain: string };
  entrypoints: DecideDeps['entrypoints'];
  dropManagedFields: boolean;
  maxJsonDepth: number;
  /** The audit masks; none when the audit log leaves inputs out. */
  mask: string[] | undefined;
  maxMemoryPages: number;
  /** Whether a namespace missing from the copy is worth a read from the API server (informer facts). */
  lookups: boolean;
}

export type ToWorker =
  | { type: 'snapshot'; source: SnapshotSource }
  | { type: 'namespaces'; list: NamespaceInfo[] }
  | { type: 'trust'; pem: string }
  | { type: 'decide'; id: number; webhook: Webhook; body: Uint8Array; read?: NamespaceRead };

type FromWorker =
  | { type: 'ready' }
  | { type: 'start-failed'; message: string }
  | { type: 'decided'; id: number; decision: Decision | UnknownNamespace }
  | { type: 'failed'; id: number; message: string }
  | { type: 'log'; level: 'info' | 'error'; obj: object; msg: string };

interface Thread {
  worker: Worker;
  pending: Map<number, { resolve(d: Decision | UnknownNamespace): void; reject(e: Error): void }>;
  /** What this thread was last sent, so each is sent again only when it changed. */
  snapshot?: Snapshot;
  generation?: number;
  trust?: string;
}

const RESTART_MS = 1000;

/**
 * Admission decisions on worker threads. The main thread keeps TLS, HTTP, metrics and the audit chain; the
 * workers parse the body, evaluate the policy and build the patch, which is most of a decision's CPU, so a
 * pod with several cores admits in parallel. Each worker has its own WebAssembly instances (from the
 * modules the main thread compiled), a copy of the namespaces, and its own injection template watcher.
 * A worker that dies fails its in-flight requests (the webhook's failurePolicy applies) and is replaced.
 */
export class DecisionWorkers {
  private readonly threads: Thread[] = [];
  private next = 0;
  private closing = false;

  constructor(
    private readonly ctx: Context,
    private readonly setup: WorkerSetup,
  ) {}

  /** Starts `count` workers; rejects with the reason when one cannot load the injection template. */
  async start(count: number): Promise<void> {
    await Promise.all(Array.from({ length: count }, (_, i) => this.spawn(i)));
  }

  decide(webhook: Webhook, body: Uint8Array, read?: NamespaceRead): Promise<Decision | UnknownNamespace> {
    // The least busy thread: a slow decision does not hold up those queued behind it elsewhere.
    let thread: Thread | undefined;
    for (const t of this.threads) if (t && (!thread || t.pending.size < thread.pending.size)) thread = t;
    if (!thread) return Promise.reject(new Error('no decision worker is running'));
    this.sync(thread);
    const id = ++this.next;
    const t = thread;
    // The body's memory moves to the worker instead of being copied, unless it shares a pooled buffer.
    const own = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength ? body : Buffer.from(body);
    return new Promise((resolve, reject) => {
      t.pending.set(id, { resolve, reject });
      t.worker.postMessage({ type: 'decide', id, webhook, body: own, ...(read ? { read } : {}) } satisfies ToWorker, [own.buffer as ArrayBuffer]);
    });
  }

  /** Workers up and taking decisions. */
  running(): number {
    return this.threads.filter(Boolean).length;
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.threads.map((t) => t?.worker.terminate()));
  }

  private sync(thread: Thread): void {
    const snapshot = this.ctx.engine.current();
    if (thread.snapshot !== snapshot) {
      thread.worker.postMessage({ type: 'snapshot', source: snapshot.source } satisfies ToWorker);
      thread.snapshot = snapshot;
    }
    const trust = this.ctx.tls.current().ca ?? '';
    if (thread.trust !== trust) {
      thread.worker.postMessage({ type: 'trust', pem: trust } satisfies ToWorker);
      thread.trust = trust;
    }
    const generation = this.ctx.facts.namespaceGeneration();
    if (thread.generation !== generation) {
      thread.worker.postMessage({ type: 'namespaces', list: this.ctx.facts.allNamespaces() } satisfies ToWorker);
      thread.generation = generation;
    }
  }

  private spawn(slot: number): Promise<void> {
    const log = this.ctx.log.child({ component: 'admission-worker', worker: slot });
    // Under tsx (tests) this module is TypeScript; compiled, it is JavaScript.
    const file = new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url);
    const worker = new Worker(file, { workerData: this.setup });
    const thread: Thread = { worker, pending: new Map() };
    return new Promise((resolve, reject) => {
      let started = false;
      worker.on('message', (m: FromWorker) => {
        switch (m.type) {
          case 'ready':
            started = true;
            this.threads[slot] = thread;
            resolve();
            return;
          case 'start-failed':
            reject(new Error(`decision worker: ${m.message}`));
            return;
          case 'decided':
            thread.pending.get(m.id)?.resolve(m.decision);
            thread.pending.delete(m.id);
            return;
          case 'failed':
            thread.pending.get(m.id)?.reject(new Error(m.message));
            thread.pending.delete(m.id);
            return;
          case 'log':
            log[m.level](m.obj, m.msg);
        }
      });
      worker.on('error', (err) => log.error({ err }, 'decision worker failed'));
      worker.on('exit', (code) => {
        if (this.threads[slot] === thread) delete this.threads[slot];
        for (const p of thread.pending.values()) p.reject(new Error(`the decision worker exited (code ${code})`));
        thread.pending.clear();
        if (!started) return reject(new Error(`decision worker exited before it was ready (code ${code})`));
        if (this.closing) return;
        log.error({ code }, 'decision worker exited; starting another');
        const again = () => {
          if (!this.closing) this.spawn(slot).catch((err: Error) => (log.error({ err: err.message }, 'decision worker did not start; retrying'), setTimeout(again, RESTART_MS).unref()));
        };
        again();
      });
    });
  }
}
