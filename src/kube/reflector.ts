import { EventEmitter } from 'node:events';
import { setImmediate as yieldToEventLoop, setTimeout as sleep } from 'node:timers/promises';
import { type KubeConfig, type KubernetesObject, Watch } from '@kubernetes/client-node';
import { withDeadline } from './deadline.js';
import { describe, statusOf } from './errors.js';

export interface Listed<T> {
  items: T[];
  metadata?: { resourceVersion?: string; _continue?: string };
}

/** One page of a list: at most `limit` objects, after those of the page that returned `_continue`. */
export interface Page {
  limit?: number;
  _continue?: string;
}

export interface ReflectorOptions<R extends KubernetesObject, T> {
  name: string;
  kc: KubeConfig;
  /** The collection's URL path, for the watch: /api/v1/namespaces, /api/v1/namespaces/NS/secrets, ... */
  path: string;
  /** The initial state and each relist, page by page, with a resourceVersion to watch from. */
  list(page: Page): Promise<Listed<R>>;
  /** Objects per list page: a large cluster's Pods in one response would be one huge allocation (and one slow request). */
  pageSize?: number;
  fieldSelector?: string;
  labelSelector?: string;
  /** What is kept of each object (a slim copy keeps a large cluster's Pods cheap). */
  keep(object: R): T;
  resyncMs: number;
  /**
   * While a list page is applied, give the event loop back after this much work (ms): a `keep` that costs
   * (a policy evaluation per object) must not hold requests up for a whole page. Unset: a page at once.
   */
  sliceMs?: number;
  watchTimeoutSeconds: number;
  retryMs: number;
  log: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
}

type Events<T> = {
  add: [T];
  update: [T, T];
  delete: [T];
  /** A full list was applied: the store now mirrors the API server. */
  synced: [];
  failure: [Error];
};

const MAX_RETRY_MS = 30_000;
const WATCHDOG_SLACK_MS = 30_000;

/**
 * A store kept equal to a collection on the API server, the way client-go's reflector does it: list,
 * then watch from the list's resourceVersion; relist when the watch expires (410), when it fails (the
 * server may have gone: objects deleted meanwhile are only noticed by a list), and every resync period.
 * Until a relist succeeds the store keeps the last known state, so decisions go on while the API
 * server is away. A watch that stays silent past its timeout is dropped, as its connection may be dead.
 */
export class Reflector<R extends KubernetesObject, T> extends EventEmitter<Events<T>> {
  private readonly store = new Map<string, T>();
  private readonly watch: Watch;
  private stopped = false;
  private hasSynced = false;
  private current: AbortController | undefined;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private lastError: string | undefined;
  private connected = false;
  /** resync() was called: the watch ends and a relist follows. */
  private relistRequested = false;
  /** Callers of resync() waiting for a relist that started after their call. */
  private resyncWaiters: Array<() => void> = [];
  /** Watch requests opened so far (each list page is a request of the caller's `list`). */
  private watches = 0;

  constructor(private readonly options: ReflectorOptions<R, T>) {
    super();
    this.watch = new Watch(options.kc);
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.current?.abort();
    this.wake?.();
    await this.loop;
    for (const resolve of this.resyncWaiters.splice(0)) resolve();
  }

  /**
   * Relists now (ending the watch), and resolves once a relist that started after this call has been
   * applied: every object has gone through `keep` again. Resolves at once when stopped.
   */
  resync(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.resyncWaiters.push(resolve));
    this.relistRequested = true;
    this.current?.abort();
    this.wake?.();
    return done;
  }

  get(key: string): T | undefined {
    return this.store.get(key);
  }

  values(): IterableIterator<T> {
    return this.store.values();
  }

  /** True once a first list has been applied; stays true while the API server is away (last known state). */
  synced(): boolean {
    return this.hasSynced;
  }

  status(): { synced: boolean; connected: boolean; objects: number; watches: number; lastError?: string } {
    return { synced: this.hasSynced, connected: this.connected, objects: this.store.size, watches: this.watches, ...(this.lastError ? { lastError: this.lastError } : {}) };
  }

  /** Resolves once synced, or rejects after timeoutMs. */
  async whenSynced(timeoutMs: number): Promise<void> {
    if (this.hasSynced) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('synced', done);
        reject(new Error(`${this.options.name}: not synced within ${timeoutMs}ms${this.lastError ? ` (last error: ${this.lastError})` : ''}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.once('synced', done);
    });
  }

  private async run(): Promise<void> {
    let retryMs = this.options.retryMs;
    let resourceVersion = '';
    let nextResync = 0;
    while (!this.stopped) {
      try {
        if (!resourceVersion || Date.now() >= nextResync || this.relistRequested) {
          resourceVersion = await this.relist();
          nextResync = Date.now() + this.options.resyncMs;
          if (this.stopped) break;
        }
        resourceVersion = await this.watchOnce(resourceVersion, nextResync);
        retryMs = this.options.retryMs;
      } catch (err) {
        if (this.stopped) break;
        this.connected = false;
        this.lastError = describe(err);
        this.options.log.warn({ informer: this.options.name, err: this.lastError, retryInMs: retryMs }, 'list or watch failed; keeping the last known state');
        this.emit('failure', err instanceof Error ? err : new Error(String(err)));
        resourceVersion = '';
        await this.pause(retryMs);
        retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
      }
    }
  }

  /**
   * Lists everything again, applying each page as it arrives (a page's objects are dropped once kept, so a
   * large collection is never held whole), then removes what the list no longer has.
   */
  private async relist(): Promise<string> {
    this.relistRequested = false;
    const waiting = this.resyncWaiters.splice(0);
    const seen = new Set<string>();
    let resourceVersion = '';
    try {
      for await (const page of this.pages()) {
        await this.apply(page.items, seen);
        if (this.stopped) return '';
        resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      }
    } catch (err) {
      // Not done: whoever waits for a relist waits for the next one.
      this.resyncWaiters.unshift(...waiting);
      throw err;
    }
    for (const [key, old] of [...this.store]) {
      if (seen.has(key)) continue;
      this.store.delete(key);
      this.emit('delete', old);
    }
    const first = !this.hasSynced;
    this.hasSynced = true;
    this.connected = true;
    this.lastError = undefined;
    if (first) this.options.log.info({ informer: this.options.name, objects: this.store.size }, 'informer synced');
    this.emit('synced');
    for (const resolve of waiting) resolve();
    return resourceVersion;
  }

  private async apply(items: R[], seen: Set<string>): Promise<void> {
    const { sliceMs } = this.options;
    let sliceStart = performance.now();
    for (const [i, object] of items.entries()) {
      seen.add(keyOf(object));
      this.upsert(object);
      // Let go of each object once kept, not the page at its end: an object that lives on through the rest of
      // a slow page (a policy evaluation per object) outlasts young-generation collections and is copied
      // into the old generation, which then grows by most of every page before a full collection.
      (items as Array<R | undefined>)[i] = undefined;
      if (sliceMs !== undefined && performance.now() - sliceStart >= sliceMs) {
        await yieldToEventLoop();
        if (this.stopped) return;
        sliceStart = performance.now();
      }
    }
  }

  /**
   * The pages of one consistent list (all come from the snapshot of the first). Each carries the
   * resourceVersion of that snapshot, from which the watch goes on.
   */
  private async *pages(): AsyncGenerator<Listed<R>> {
    let token: string | undefined;
    do {
      const page: Page = { ...(this.options.pageSize ? { limit: this.options.pageSize } : {}), ...(token ? { _continue: token } : {}) };
      let listed: Listed<R>;
      try {
        listed = await withDeadline(this.options.list(page), this.options.watchTimeoutSeconds * 1000, `${this.options.name}: list`);
      } catch (err) {
        // The snapshot behind a continue token is compacted away after a few minutes (410): the pages read
        // so far can not be completed consistently, so the list starts over in one piece, as client-go does.
        // Objects of the earlier pages are applied again from it; what was deleted meanwhile is not in it.
        if (token === undefined || statusOf(err) !== 410) throw err;
        this.options.log.warn({ informer: this.options.name }, 'list continuation expired; listing again in one request');
        yield await withDeadline(this.options.list({}), this.options.watchTimeoutSeconds * 1000, `${this.options.name}: list`);
        return;
      }
      token = listed.metadata?._continue || undefined;
      yield listed;
    } while (token !== undefined);
  }

  /** One watch, until the server ends it, the resync is due, or it fails; resolves with the resourceVersion to go on from ('' to relist). */
  private watchOnce(resourceVersion: string, until: number): Promise<string> {
    if (this.relistRequested) return Promise.resolve(resourceVersion);
    return new Promise<string>((resolve, reject) => {
      let rv = resourceVersion;
      let settled = false;
      const timeoutSeconds = Math.max(1, Math.min(this.options.watchTimeoutSeconds, Math.ceil((until - Date.now()) / 1000)));
      let watchdog: NodeJS.Timeout | undefined;
      const arm = () => {
        clearTimeout(watchdog);
        watchdog = setTimeout(() => finish(new Error(`watch silent for ${timeoutSeconds}s past its timeout`)), timeoutSeconds * 1000 + WATCHDOG_SLACK_MS);
      };
      const finish = (err: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(watchdog);
        this.current?.abort();
        this.current = undefined;
        const code = (err as { statusCode?: number; code?: number } | null)?.statusCode ?? (err as { code?: unknown } | null)?.code;
        if (!err || this.stopped || this.relistRequested) resolve(rv);
        else if (code === 410) resolve('');
        else reject(err);
      };
      arm();
      const params: Record<string, string | number | boolean> = { resourceVersion: rv, allowWatchBookmarks: true, timeoutSeconds };
      this.watches++;
      if (this.options.fieldSelector) params.fieldSelector = this.options.fieldSelector;
      if (this.options.labelSelector) params.labelSelector = this.options.labelSelector;
      this.watch
        .watch(
          this.options.path,
          params,
          (phase: string, object: R & { code?: number; message?: string }) => {
            arm();
            if (phase === 'ERROR') {
              // 410 Gone: the resourceVersion was compacted away; anything else: start over from a list.
              rv = '';
              if (object.code !== 410) finish(new Error(`watch error: ${object.code ?? ''} ${object.message ?? ''}`));
              return;
            }
            if (phase === 'ADDED' || phase === 'MODIFIED') this.upsert(object);
            else if (phase === 'DELETED') this.remove(object);
            rv = object.metadata?.resourceVersion ?? rv;
          },
          finish,
        )
        .then(
          (controller) => {
            if (settled) return controller.abort();
            this.current = controller;
            // stop() or resync() came while the watch was being opened: it had no controller to abort then.
            if (this.stopped || this.relistRequested) finish(undefined);
          },
          finish,
        );
    });
  }

  private upsert(object: R): void {
    const key = keyOf(object);
    const kept = this.options.keep(object);
    const old = this.store.get(key);
    this.store.set(key, kept);
    if (old === undefined) this.emit('add', kept);
    else this.emit('update', kept, old);
  }

  private remove(object: R): void {
    const key = keyOf(object);
    const old = this.store.get(key);
    if (old === undefined) return;
    this.store.delete(key);
    this.emit('delete', old);
  }

  private async pause(ms: number): Promise<void> {
    await Promise.race([sleep(ms), new Promise<void>((resolve) => (this.wake = resolve))]);
    this.wake = undefined;
  }
}

function keyOf(object: KubernetesObject): string {
  const m = object.metadata ?? {};
  return m.namespace ? `${m.namespace}/${m.name ?? ''}` : (m.name ?? '');
}
