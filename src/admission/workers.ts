import { Worker } from 'node:worker_threads';
import type { NamespaceInfo } from '../facts/facts.js';
import type { Snapshot, SnapshotSource } from '../policy/engine.js';
import type { Context } from '../server/context.js';
import type { InjectionConfig } from './config.js';
import type { Decision, DecideDeps, NamespaceRead, RequestSummary, UnknownNamespace, Webhook } from './decide.js';
import { cheapEnoughInline } from './inline-gate.js';
import type { ReviewLimits } from './limits.js';
import { findRequestUid } from './request-uid.js';
import { readSummary, SUMMARY_BYTES } from './summary-slot.js';

/** What a decision worker is started with (workerData). */
export interface WorkerSetup {
  injection: InjectionConfig;
  cluster: { name: string; trustDomain: string };
  entrypoints: DecideDeps['entrypoints'];
  dropManagedFields: boolean;
  maxJsonDepth: number;
  limits: ReviewLimits;
  /** The audit masks; none when the audit log leaves inputs out. */
  mask: string[] | undefined;
  maxMemoryPages: number;
  /** A worker whose policy memory grew past this is replaced after its decision, so the memory is returned. */
  recycleBytes: number;
  /** Whether a namespace missing from the copy is worth a read from the API server (informer facts). */
  lookups: boolean;
  /** Where the worker writes who the review it is deciding is (summary-slot.ts), for an answer at the deadline. */
  slot?: SharedArrayBuffer;
  /** The policy and the namespaces as they are when it starts: built before it says it is ready, so no decision waits for them. */
  snapshot?: SnapshotSource;
  namespaces?: NamespaceInfo[];
}

export type ToWorker =
  | { type: 'snapshot'; source: SnapshotSource }
  | { type: 'namespaces'; list: NamespaceInfo[] }
  | { type: 'trust'; pem: string }
  | { type: 'decide'; id: number; webhook: Webhook; body: Uint8Array; read?: NamespaceRead };

type FromWorker =
  | { type: 'ready' }
  | { type: 'start-failed'; message: string }
  | { type: 'decided'; id: number; decision: Decision | UnknownNamespace; recycle?: boolean }
  | { type: 'failed'; id: number; message: string; recycle?: boolean }
  | { type: 'log'; level: 'info' | 'error'; obj: object; msg: string };

/**
 * A decision a worker did not make: it ran past its deadline, waited that long for a free worker, or its
 * worker died. `request` is who it was, when the worker had read that far; `body` is still here when no
 * worker had taken it yet. It fails closed.
 */
export interface Undecided {
  kind: 'undecided';
  why: string;
  request?: RequestSummary;
  /** The uid read from the first bytes kept when the body moved to a worker that stopped before it had read the review. */
  uid?: string;
  body?: Uint8Array;
}

export type WorkerAnswer = Decision | UnknownNamespace | Undecided;

interface Job {
  id: number;
  webhook: Webhook;
  body: Uint8Array;
  /** A copy of the body's first bytes, kept when the body moves to a worker: the uid is there in every review an API server sends. */
  head?: Uint8Array;
  read?: NamespaceRead;
  resolve(answer: WorkerAnswer): void;
  timer: NodeJS.Timeout;
  /** Answered (or refused at its deadline): a later answer from a worker is dropped. */
  settled?: boolean;
  /** Whether its worst case is short (cheapEnoughInline), worked out once it may wait behind another decision or have one wait behind it. */
  short?: boolean;
}

interface Thread {
  worker: Worker;
  slot: SharedArrayBuffer;
  /**
   * What it was sent, in order: the first is the decision it is making, the second (short reviews only)
   * waits in its port, so it goes on at once instead of waiting for the main thread to hand it the next.
   */
  jobs: Job[];
  /** Retiring (memory) or stopped at a deadline: takes nothing more. */
  leaving?: boolean;
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
 *
 * Every decision has a deadline (admission.timeoutMs). Synchronous WebAssembly cannot be interrupted, only
 * its thread stopped: one that runs past its deadline is answered as timed out, its worker terminated and
 * replaced. The rest wait here, in order, except that a busy worker deciding a short review is handed the
 * next short one too: under load a worker would otherwise sit idle from each answer until the main thread
 * gets round to sending it another (half its time on two cores). Short means a worst case of milliseconds
 * (cheapEnoughInline), so what waits behind a decision is bounded, and nothing waits behind a long one; a
 * review handed over that way keeps its body here too, and goes to another worker if its own stops before
 * starting it. A worker that dies fails its decision (the webhook's failurePolicy applies) and is
 * replaced; one whose policy memory grew past recycleBytes is replaced after its decision.
 */
export class DecisionWorkers {
  private readonly threads: Thread[] = [];
  /** Every worker not yet exited, started or still starting: close() stops them all. */
  private readonly alive = new Set<Worker>();
  private readonly queue: Job[] = [];
  private next = 0;
  private started = false;
  private closing = false;
  /** start() callers waiting for the first worker. */
  private waiters: Array<{ resolve(): void; reject(err: Error): void }> = [];

  constructor(
    private readonly ctx: Context,
    private readonly setup: Omit<WorkerSetup, 'slot'>,
    private readonly options: { count: number; timeoutMs: number },
  ) {}

  /** Starts the workers (once), and resolves once one is up or rejects with why it could not start. */
  start(): Promise<void> {
    if (!this.started) {
      this.started = true;
      for (let i = 0; i < this.options.count; i++) this.spawnUntilUp(i);
    }
    if (this.running() > 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /**
   * Decides on a worker, by `timeoutMs` from now at the latest; never rejects. `body` moves to the worker
   * (no copy) once one takes it.
   */
  decide(webhook: Webhook, body: Uint8Array, read?: NamespaceRead): Promise<WorkerAnswer> {
    return new Promise((resolve) => {
      const id = ++this.next;
      const job: Job = { id, webhook, body, ...(read ? { read } : {}), resolve, timer: setTimeout(() => this.expire(job), this.options.timeoutMs) };
      this.queue.push(job);
      this.dispatch();
    });
  }

  /** Workers up and taking decisions. */
  running(): number {
    return this.threads.filter((t) => t && !t.leaving).length;
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const w of this.waiters.splice(0)) w.reject(new Error('the decision workers are shutting down'));
    for (const job of this.queue.splice(0)) settle(job, { kind: 'undecided', why: 'the decision workers are shutting down', body: job.body });
    await Promise.all([...this.alive].map((w) => w.terminate()));
  }

  /** Hands waiting decisions to idle workers, oldest first; then a short one to each worker deciding a short one. */
  private dispatch(): void {
    for (const thread of this.threads) {
      if (this.queue.length === 0) return;
      if (thread && !thread.leaving && thread.jobs.length === 0) this.send(thread, this.queue.shift() as Job);
    }
    for (const thread of this.threads) {
      const next = this.queue[0];
      if (!next) return;
      if (!thread || thread.leaving || thread.jobs.length !== 1 || !isShort(thread.jobs[0] as Job) || !isShort(next)) continue;
      this.send(thread, this.queue.shift() as Job);
    }
  }

  private send(thread: Thread, job: Job): void {
    this.sync(thread);
    thread.jobs.push(job);
    const body = job.body;
    let own: Uint8Array;
    if (thread.jobs.length > 1) {
      // Behind another decision: a copy goes, the body stays, for another worker if this one stops first.
      own = Buffer.from(body);
      job.head = body.subarray(0, HEAD_BYTES);
    } else {
      // Whether another may wait behind it is judged while its body is still here, if all workers are busy.
      if (this.queue.length > 0 || this.threads.every((t) => !t || t.leaving || t.jobs.length > 0)) isShort(job);
      // The body's memory moves to the worker instead of being copied, unless it shares a pooled buffer.
      own = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength ? body : Buffer.from(body);
      if (own === body) {
        job.head = Buffer.from(body.subarray(0, HEAD_BYTES));
        job.short ??= false;
      }
    }
    thread.worker.postMessage({ type: 'decide', id: job.id, webhook: job.webhook, body: own, ...(job.read ? { read: job.read } : {}) } satisfies ToWorker, [own.buffer as ArrayBuffer]);
  }

  /** Decisions a stopping worker was sent but had not started: first in line again, for the other workers. */
  private requeue(jobs: Job[]): void {
    const waiting = jobs.filter((j) => !j.settled);
    if (this.closing) {
      for (const job of waiting) settle(job, { kind: 'undecided', why: 'the decision workers are shutting down', body: job.body });
      return;
    }
    this.queue.unshift(...waiting);
  }

  /**
   * The deadline of a decision: still waiting, here or behind another decision in a worker's port, it is
   * refused (a worker's answer to it later is dropped); being decided, its worker is stopped as well.
   */
  private expire(job: Job): void {
    const ms = this.options.timeoutMs;
    const waiting = this.queue.indexOf(job);
    if (waiting >= 0) this.queue.splice(waiting, 1);
    const thread = this.threads.find((t) => t?.jobs[0] === job);
    if (!thread) {
      settle(job, { kind: 'undecided', why: `no decision worker was free within admission.timeoutMs (${ms} ms)`, body: job.body });
      return;
    }
    const who = lostRequest(thread.slot, job);
    thread.leaving = true;
    const why = `the decision took longer than admission.timeoutMs (${ms} ms), so it was stopped: the object is too large or too complex to judge in time`;
    settle(job, { kind: 'undecided', why, ...who });
    this.ctx.log.warn({ uid: who.request?.uid ?? who.uid, kind: who.request?.kind, timeoutMs: this.options.timeoutMs }, 'admission decision ran past its deadline: stopping its worker');
    this.requeue(thread.jobs.splice(0).slice(1));
    void thread.worker.terminate();
    this.dispatch();
  }

  /** A worker's answer, to the first decision it was sent (it decides them in order). */
  private finish(thread: Thread, id: number, answer: (job: Job) => WorkerAnswer, recycle: boolean | undefined): void {
    const job = thread.jobs[0];
    if (job?.id !== id) return;
    thread.jobs.shift();
    if (!job.settled) settle(job, answer(job));
    if (recycle && !thread.leaving) {
      thread.leaving = true;
      this.ctx.log.info({ recycleBytes: this.setup.recycleBytes }, 'decision worker policy memory grew past admission.workerRecycleBytes: replacing it');
      this.requeue(thread.jobs.splice(0));
      void thread.worker.terminate();
    }
    this.dispatch();
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

  /** Starts worker `index`, again every RESTART_MS until one comes up. */
  private spawnUntilUp(index: number): void {
    if (this.closing) return;
    this.spawn(index).then(
      () => {
        for (const w of this.waiters.splice(0)) w.resolve();
      },
      (err: Error) => {
        for (const w of this.waiters.splice(0)) w.reject(err);
        this.ctx.log.error({ err: err.message, worker: index }, 'decision worker did not start; retrying');
        setTimeout(() => this.spawnUntilUp(index), RESTART_MS).unref();
      },
    );
  }

  private spawn(index: number): Promise<void> {
    const log = this.ctx.log.child({ component: 'admission-worker', worker: index });
    // Under tsx (tests) this module is TypeScript; compiled, it is JavaScript.
    const file = new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url);
    const slot = new SharedArrayBuffer(SUMMARY_BYTES);
    const snapshot = this.ctx.engine.current();
    const generation = this.ctx.facts.namespaceGeneration();
    const worker = new Worker(file, { workerData: { ...this.setup, slot, snapshot: snapshot.source, namespaces: this.ctx.facts.allNamespaces() } satisfies WorkerSetup });
    const thread: Thread = { worker, slot, snapshot, generation, jobs: [] };
    this.alive.add(worker);
    return new Promise((resolve, reject) => {
      let started = false;
      worker.on('message', (m: FromWorker) => {
        switch (m.type) {
          case 'ready':
            if (this.closing) return void worker.terminate();
            started = true;
            this.threads[index] = thread;
            resolve();
            this.dispatch();
            return;
          case 'start-failed':
            reject(new Error(`decision worker: ${m.message}`));
            return;
          case 'decided':
            this.finish(thread, m.id, () => m.decision, m.recycle);
            return;
          case 'failed':
            this.finish(thread, m.id, (job) => ({ kind: 'undecided', why: `internal error: ${m.message}`, ...lostRequest(thread.slot, job) }), m.recycle);
            return;
          case 'log':
            log[m.level](m.obj, m.msg);
        }
      });
      worker.on('error', (err) => log.error({ err }, 'decision worker failed'));
      worker.on('exit', (code) => {
        this.alive.delete(worker);
        if (this.threads[index] === thread) delete this.threads[index];
        const [job, ...behind] = thread.jobs.splice(0);
        if (job && !job.settled) settle(job, { kind: 'undecided', why: `the decision worker exited (code ${code})`, ...lostRequest(slot, job) });
        this.requeue(behind);
        this.dispatch();
        if (!started) return reject(new Error(`decision worker exited before it was ready (code ${code})`));
        if (this.closing) return;
        if (!thread.leaving) log.error({ code }, 'decision worker exited; starting another');
        this.spawnUntilUp(index);
      });
    });
  }
}

function settle(job: Job, answer: WorkerAnswer): void {
  job.settled = true;
  clearTimeout(job.timer);
  job.resolve(answer);
}

/** Whether a decision's worst case is short enough for another to wait behind it in a worker (one scan, once). */
function isShort(job: Job): boolean {
  job.short ??= cheapEnoughInline(job.body);
  return job.short;
}

/** Bytes of a body kept on the main thread when it moves to a worker: API servers write request.uid in the first hundred. */
const HEAD_BYTES = 1024;

/** Who a decision its worker did not finish was for: from the worker's summary once it had parsed the review, else the uid in the first bytes. */
function lostRequest(slot: SharedArrayBuffer, job: Job): Pick<Undecided, 'request' | 'uid'> {
  const request = readSummary(slot, job.id);
  if (request) return { request };
  const uid = job.head ? findRequestUid(job.head) : undefined;
  return uid === undefined ? {} : { uid };
}
