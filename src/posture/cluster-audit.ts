import { createHash } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import type { KubeConfig, KubernetesObject, V1Namespace } from '@kubernetes/client-node';
import type { Gauge } from 'prom-client';
import type { DecisionRecord } from '../audit/event.js';
import type { NamespaceInfo } from '../facts/facts.js';
import { describe, statusOf } from '../kube/errors.js';
import { RawClient } from '../kube/raw.js';
import { Reflector } from '../kube/reflector.js';
import type { Snapshot } from '../policy/engine.js';
import type { PostureConfig } from './config.js';
import { ANY_VERSION, collectionPath, JUDGED_KINDS, kindName, type JudgedKind } from './kinds.js';
import { matchesSelector } from './label-selector.js';
import { ReportWriter } from './report-writer.js';
import type { SweepRecord } from './report.js';
import { VerdictStore } from './store.js';
import { verdictOf, type Judge, type Judgement, type Verdict } from './verdict.js';

interface Log {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface PostureMetrics {
  violations: Gauge<'rule' | 'enforcement' | 'namespace'>;
  objects: Gauge<'state'>;
  lastSweep: Gauge;
  sweepDuration: Gauge;
}

export interface ClusterAuditOptions {
  config: PostureConfig;
  kc: KubeConfig;
  /** Portcullis' own namespace: never audited, as the webhooks never judge it. */
  ownNamespace: string;
  /** This replica, recorded in the ClusterReport. */
  identity: string;
  /** The namespace facts the webhooks decide with, and their informer (a namespace's new labels mean a sweep). */
  facts: { namespace(name: string): NamespaceInfo | null; lookupNamespace?(name: string): Promise<NamespaceInfo | null> };
  namespaces: Pick<Reflector<V1Namespace, NamespaceInfo>, 'on' | 'off'>;
  engine: { current(): Snapshot; onChange(listener: (s: Snapshot) => void): () => void };
  judge: Judge;
  /** The violations entrypoint, the `path` of the audit events. */
  entrypoint: string;
  audit: { record(record: DecisionRecord): string };
  metrics: PostureMetrics;
  informers: { watchTimeoutSeconds: number; retryMs: number };
  log: Log;
}

type Obj = KubernetesObject & Record<string, unknown>;

interface Watched {
  kind: JudgedKind;
  name: string;
  version?: string;
  reflector?: Reflector<Obj, Verdict>;
  /** The first list of a reflector just started: listened for before it starts, so it cannot be missed. */
  firstSync?: { promise: Promise<Error | undefined>; cancel(): void };
  /** Watches of reflectors stopped since (a kind no longer served): still calls made. */
  watches: number;
  lastError?: string;
}

/** How long namespace changes are gathered before the sweep they cause. */
const NAMESPACE_DEBOUNCE_MS = 1000;
/** How often the metrics follow the verdicts at most. */
const METRICS_DELAY_MS = 1000;

/**
 * The posture audit of the objects already in the cluster, run by the leader: every object of the kinds the
 * validating webhook judges, judged as its CREATE would be with the namespace facts of now, by the same
 * decision path. Objects are streamed: one informer-style list and watch per kind whose store holds only
 * verdicts, so the cluster is never held in memory. An object is judged again when it changes, everything
 * when a bundle or the policy data changes (or a namespace's labels), and in a full sweep every
 * sweepSeconds. Each change of a verdict is one audit event; verdicts become OpenReports reports and
 * metrics.
 */
export class ClusterAudit {
  readonly store = new VerdictStore();
  private readonly raw: RawClient;
  private readonly writer: ReportWriter | undefined;
  private readonly watched: Watched[] = JUDGED_KINDS.map((kind) => ({ kind, name: kindName(kind.group, kind.kind), watches: 0 }));
  private readonly excluded: Set<string>;
  private readonly fieldSelector: string;
  private stopped = false;
  private started = false;
  private unsubscribe: Array<() => void> = [];
  private timers: NodeJS.Timeout[] = [];
  private sweepChain: Promise<void> = Promise.resolve();
  private sweepQueued = false;
  private sweepTimer: NodeJS.Timeout | undefined;
  private metricsTimer: NodeJS.Timeout | undefined;
  private current: { reason: string; startedAt: string } | undefined;
  private last: SweepRecord | undefined;
  private policyKey: string;
  private readonly unknownNamespaces = new Set<string>();
  private readonly lookups = new Set<string>();

  constructor(private readonly options: ClusterAuditOptions) {
    const { config } = options;
    this.raw = new RawClient(options.kc);
    this.excluded = new Set([...config.excludedNamespaces, options.ownNamespace]);
    // The API server leaves excluded namespaces out of lists and watches; the label selector is applied here.
    this.fieldSelector = [...this.excluded].map((ns) => `metadata.namespace!=${ns}`).join(',');
    this.policyKey = policyKeyOf(options.engine.current());
    if (config.reports.enabled) {
      this.writer = new ReportWriter({
        raw: this.raw,
        store: this.store,
        name: config.reports.name,
        maxResults: config.reports.maxResults,
        writeDelayMs: config.reports.writeDelaySeconds * 1000,
        cluster: () => ({ bundles: { ...options.engine.current().revisions }, sweep: this.last, leader: options.identity }),
        log: options.log,
      });
    }
  }

  /** Reads what earlier leaders reported, then starts the first sweep (not awaited: status() tells when it ended). */
  async start(): Promise<void> {
    const { options } = this;
    if (this.writer) this.store.setBaseline(await this.writer.load());
    if (this.stopped) return;
    this.started = true;
    this.unsubscribe.push(
      options.engine.onChange((snapshot) => {
        const key = policyKeyOf(snapshot);
        if (key === this.policyKey) return;
        this.policyKey = key;
        void this.sweep('policy');
      }),
    );
    // Only a namespace that is audited, or was until this change, can change a verdict.
    const changed = (n: NamespaceInfo, old: NamespaceInfo) => {
      if (sameRecord(n.labels, old.labels) && sameRecord(n.annotations, old.annotations)) return;
      if (this.excluded.has(n.name)) return;
      const selector = options.config.namespaceSelector;
      if (matchesSelector(selector, n.labels) || matchesSelector(selector, old.labels)) this.sweepSoon('namespace');
    };
    const added = (n: NamespaceInfo) => {
      if (this.unknownNamespaces.delete(n.name)) this.sweepSoon('namespace');
    };
    options.namespaces.on('update', changed);
    options.namespaces.on('add', added);
    this.unsubscribe.push(() => options.namespaces.off('update', changed), () => options.namespaces.off('add', added));
    const period = setInterval(() => void this.sweep('period'), options.config.sweepSeconds * 1000);
    period.unref();
    this.timers.push(period);
    void this.sweep('start');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const u of this.unsubscribe.splice(0)) u();
    for (const t of this.timers.splice(0)) clearInterval(t);
    clearTimeout(this.sweepTimer);
    clearTimeout(this.metricsTimer);
    await Promise.all(this.watched.map((w) => w.reflector?.stop()));
    await this.writer?.stop();
    this.raw.close();
    // A replica that no longer leads reports nothing: the next leader's figures are the current ones.
    for (const g of Object.values(this.options.metrics)) g.reset();
  }

  /** Starts a full sweep after those under way; several requests while one waits make one sweep. */
  sweep(reason: string): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.sweepQueued) return this.sweepChain;
    this.sweepQueued = true;
    this.sweepChain = this.sweepChain.then(async () => {
      this.sweepQueued = false;
      if (this.stopped) return;
      try {
        await this.runSweep(reason);
      } catch (err) {
        this.options.log.error({ err: describe(err), reason }, 'posture: sweep failed');
      }
    });
    return this.sweepChain;
  }

  status() {
    return {
      sweeping: this.current ?? null,
      lastSweep: this.last ?? null,
      objects: this.store.size,
      kinds: this.watched.map((w) => ({
        kind: w.name,
        served: w.version !== undefined,
        ...(w.version ? { version: w.version } : {}),
        ...(w.reflector ? { synced: w.reflector.synced() } : {}),
        ...(w.lastError ? { lastError: w.lastError } : {}),
      })),
      apiCalls: { ...this.raw.calls, watch: this.watched.reduce((n, w) => n + (w.reflector?.status().watches ?? 0) + w.watches, 0) },
      ...(this.writer ? { reports: this.writer.status() } : {}),
    };
  }

  lastSweep(): SweepRecord | undefined {
    return this.last;
  }

  sweeping(): boolean {
    return this.current !== undefined;
  }

  private sweepSoon(reason: string): void {
    if (this.sweepTimer || this.stopped) return;
    this.sweepTimer = setTimeout(() => {
      this.sweepTimer = undefined;
      void this.sweep(reason);
    }, NAMESPACE_DEBOUNCE_MS);
    this.sweepTimer.unref();
  }

  private async runSweep(reason: string): Promise<void> {
    const started = Date.now();
    this.current = { reason, startedAt: new Date(started).toISOString() };
    const fresh = await this.discover();
    await Promise.all(
      this.watched.map(async (w) => {
        const reflector = w.reflector;
        if (!reflector) return;
        // A kind just started is in its first list; the others list again. A failure ends its part of the sweep.
        const synced = fresh.includes(w) ? w.firstSync : undefined;
        w.firstSync = undefined;
        const failed = nextEvent(reflector, 'failure');
        const outcome = await Promise.race([synced?.promise ?? reflector.resync(), failed.promise]);
        synced?.cancel();
        failed.cancel();
        if (outcome instanceof Error) this.failed(w, outcome);
      }),
    );
    if (this.stopped) return;
    const ended = Date.now();
    this.last = { reason, startedAt: this.current.startedAt, endedAt: new Date(ended).toISOString(), durationMs: ended - started, objects: this.store.size };
    this.current = undefined;
    this.options.metrics.lastSweep.set(ended / 1000);
    this.options.metrics.sweepDuration.set((ended - started) / 1000);
    this.options.log.info({ ...this.last, apiCalls: this.status().apiCalls }, 'posture: sweep done');
    this.refreshMetrics();
    if (this.writer) {
      this.writer.touch('');
      if (reason === 'start') await this.writer.start();
      else await this.writer.flush();
    }
  }

  /** Starts a list and watch for every judged kind the API server serves now (Istio's kinds only with their CRDs). */
  private async discover(): Promise<Watched[]> {
    const fresh: Watched[] = [];
    const served = new Map<string, Promise<Set<string> | undefined>>();
    for (const w of this.watched) {
      if (w.reflector) continue;
      const version = await this.servedVersion(w.kind, served);
      if (version === undefined || this.stopped) continue;
      w.version = version;
      w.reflector = this.watch(w, version);
      fresh.push(w);
    }
    return fresh;
  }

  private async servedVersion(kind: JudgedKind, cache: Map<string, Promise<Set<string> | undefined>>): Promise<string | undefined> {
    const versions = kind.versions.includes(ANY_VERSION) ? await this.groupVersions(kind.group, cache) : kind.versions;
    for (const version of versions) {
      const gv = kind.group ? `/apis/${kind.group}/${version}` : `/api/${version}`;
      if ((await this.discovered(gv, (list: { resources?: Array<{ name: string }> }) => (list.resources ?? []).map((r) => r.name), cache))?.has(kind.resource)) return version;
    }
    return undefined;
  }

  /** Every version of a group the API server serves, its preferred one first and then in its order (the webhook's apiVersions: ["*"]). */
  private async groupVersions(group: string, cache: Map<string, Promise<Set<string> | undefined>>): Promise<string[]> {
    const versions = await this.discovered(
      `/apis/${group}`,
      (g: { preferredVersion?: { version?: string }; versions?: Array<{ version: string }> }) => [g.preferredVersion?.version ?? '', ...(g.versions ?? []).map((v) => v.version)].filter((v) => v !== ''),
      cache,
    );
    return [...(versions ?? [])];
  }

  /** One discovery document's names, read once per sweep; a 404 (a group or version not served) is none. */
  private discovered<T>(path: string, names: (doc: T) => string[], cache: Map<string, Promise<Set<string> | undefined>>): Promise<Set<string> | undefined> {
    let found = cache.get(path);
    if (!found) {
      found = this.raw.get<T>(path).then(
        (doc) => new Set(names(doc)),
        (err: unknown) => {
          if (statusOf(err) !== 404) this.options.log.warn({ path, err: describe(err) }, 'posture: API discovery failed; the kind is looked for again at the next sweep');
          return undefined;
        },
      );
      cache.set(path, found);
    }
    return found;
  }

  private watch(w: Watched, version: string): Reflector<Obj, Verdict> {
    const { config, informers, log } = this.options;
    const path = collectionPath(w.kind, version);
    const apiVersion = w.kind.group ? `${w.kind.group}/${version}` : version;
    const reflector = new Reflector<Obj, Verdict>({
      name: `posture ${w.name}`,
      kc: this.options.kc,
      path,
      list: (page) => this.raw.list<Obj>(path, { ...page, fieldSelector: this.fieldSelector }),
      pageSize: config.pageSize,
      fieldSelector: this.fieldSelector,
      keep: (object) => this.observe(w, apiVersion, object),
      // Sweeps are started here, all kinds together, not by each list on its own clock.
      resyncMs: Number.MAX_SAFE_INTEGER / 2,
      sliceMs: config.sliceMs,
      watchTimeoutSeconds: informers.watchTimeoutSeconds,
      retryMs: informers.retryMs,
      log,
    });
    reflector.on('delete', (verdict) => this.forget(verdict));
    reflector.on('failure', (err) => {
      w.lastError = describe(err);
    });
    reflector.on('synced', () => {
      delete w.lastError;
    });
    const synced = nextEvent(reflector, 'synced');
    const failed = nextEvent(reflector, 'failure');
    w.firstSync = {
      promise: Promise.race([synced.promise, failed.promise]),
      cancel: () => {
        synced.cancel();
        failed.cancel();
      },
    };
    reflector.start();
    return reflector;
  }

  /** A list that fails with 404 means the kind is gone (its CRD removed): its objects with it; looked for again at the next sweep. */
  private failed(w: Watched, err: Error): void {
    if (statusOf(err) !== 404 || !w.reflector) return;
    const reflector = w.reflector;
    w.reflector = undefined;
    w.watches += reflector.status().watches;
    delete w.version;
    for (const verdict of [...reflector.values()]) this.forget(verdict);
    void reflector.stop();
    this.options.log.warn({ kind: w.name }, 'posture: the kind is no longer served; its objects are forgotten');
  }

  /** Judges one object from a list or a watch event and records its verdict; the object is dropped afterwards. */
  private observe(w: Watched, apiVersion: string, object: Obj): Verdict {
    const metadata = object.metadata ?? {};
    const namespace = metadata.namespace ?? '';
    const identity = { uid: metadata.uid ?? '', apiVersion, kind: w.name, namespace, name: metadata.name ?? '' };
    const key = `${w.name}/${namespace}/${identity.name}`;
    const info = namespace ? this.options.facts.namespace(namespace) : null;
    let verdict: Verdict;
    let judgement: Judgement | undefined;
    if (this.excluded.has(namespace)) verdict = verdictOf({ ...identity, skipped: true }, { violations: [] });
    else if (info === null && namespace && this.options.config.namespaceSelector) {
      // Not known yet, so not known to match: looked up, and judged in the sweep that follows.
      this.unknown(namespace);
      verdict = verdictOf({ ...identity, skipped: true, namespaceUnknown: true }, { violations: [] });
    } else if (info && !matchesSelector(this.options.config.namespaceSelector, info.labels)) verdict = verdictOf({ ...identity, skipped: true }, { violations: [] });
    else {
      if (info === null && namespace) this.unknown(namespace);
      // Judged as its creation: the kind and apiVersion a list leaves out of its items, and nothing the API server adds later.
      object.apiVersion = apiVersion;
      object.kind = w.kind.kind;
      delete object.status;
      try {
        judgement = this.options.judge(this.options.engine.current(), object, info);
        verdict = verdictOf({ ...identity, ...(info === null && namespace ? { namespaceUnknown: true } : {}) }, judgement);
      } catch (err) {
        verdict = verdictOf(identity, { violations: [], error: `could not be judged: ${(err as Error).message}` });
      }
    }
    const previous = this.store.get(key, namespace);
    const before = this.store.set(key, verdict);
    if (before !== verdict.fingerprint) {
      this.announce(verdict, rulesOf(previous, before), judgement, verdict.skipped ? 'excluded' : undefined);
      this.changed(namespace);
    }
    return verdict;
  }

  private forget(verdict: Verdict): void {
    const key = `${verdict.kind}/${verdict.namespace}/${verdict.name}`;
    const current = this.store.get(key, verdict.namespace);
    // The store may already hold the object's successor (deleted and created again between two lists).
    if (current && current.uid !== verdict.uid) return;
    this.store.remove(key, verdict.namespace);
    if (verdict.fingerprint === '') return;
    this.announce({ ...verdict, findings: [], fingerprint: '' }, verdict.findings.map((f) => f.rule), undefined, 'deleted');
    this.changed(verdict.namespace);
  }

  private unknown(namespace: string): void {
    this.unknownNamespaces.add(namespace);
    const lookup = this.options.facts.lookupNamespace;
    if (!lookup || this.lookups.has(namespace)) return;
    this.lookups.add(namespace);
    lookup(namespace).then(
      (found) => {
        this.lookups.delete(namespace);
        if (found && this.unknownNamespaces.delete(namespace)) this.sweepSoon('namespace');
      },
      () => this.lookups.delete(namespace),
    );
  }

  private changed(namespace: string): void {
    this.writer?.touch(namespace);
    if (this.metricsTimer || this.stopped || !this.started) return;
    this.metricsTimer = setTimeout(() => this.refreshMetrics(), METRICS_DELAY_MS);
    this.metricsTimer.unref();
  }

  /** One audit event for a verdict that changed: the findings now and the rules before. */
  private announce(verdict: Verdict, previousRules: string[], judgement: Judgement | undefined, state?: 'deleted' | 'excluded'): void {
    const rules = [...new Set(verdict.findings.map((f) => f.rule))];
    const snapshot = this.options.engine.current();
    this.options.audit.record({
      path: this.options.entrypoint,
      ...(judgement?.input !== undefined ? { input: judgement.input } : {}),
      result: verdict.error !== undefined ? { error: verdict.error } : verdict.findings.map(({ rule, enforcement, msg }) => ({ rule, enforcement, msg })),
      bundles: snapshot.bundles,
      metrics: { timer_rego_eval_ns: judgement?.evalNs ?? 0 },
      kind: 'posture',
      decision: verdict.error !== undefined ? 'error' : verdict.findings.some((f) => f.enforcement === 'deny') ? 'deny' : 'allow',
      ...(verdict.error !== undefined ? { error: verdict.error } : {}),
      posture: {
        uid: verdict.uid,
        kind: verdict.kind,
        namespace: verdict.namespace,
        name: verdict.name,
        verdict: state ?? (verdict.error !== undefined ? 'error' : verdict.findings.length > 0 ? 'violating' : 'compliant'),
        rules,
        previous_rules: [...new Set(previousRules)],
      },
    });
  }

  /** portcullis_posture_violations by rule, enforcement and namespace: the namespaces with most violations by name, the rest as "(other)". */
  private refreshMetrics(): void {
    clearTimeout(this.metricsTimer);
    this.metricsTimer = undefined;
    if (this.stopped) return;
    const { metrics, config } = this.options;
    const tallies = this.store.namespaces().map((ns) => this.store.tally(ns));
    const total = (t: (typeof tallies)[number]) => t.violations.deny + t.violations.warn + t.violations.dryrun;
    const named = new Set(
      tallies
        .filter((t) => total(t) > 0)
        .sort((a, b) => total(b) - total(a) || (a.namespace < b.namespace ? -1 : 1))
        .slice(0, config.metricNamespaces)
        .map((t) => t.namespace),
    );
    const series = new Map<string, { rule: string; enforcement: string; namespace: string; value: number }>();
    const objects = { compliant: 0, violating: 0, error: 0 };
    for (const t of tallies) {
      objects.compliant += t.compliant;
      objects.violating += t.violating;
      objects.error += t.errors;
      const namespace = named.has(t.namespace) ? t.namespace : '(other)';
      for (const r of this.store.namespaceRules(t.namespace)) {
        const k = `${r.rule}\u0000${r.enforcement}\u0000${namespace}`;
        const s = series.get(k) ?? { rule: r.rule, enforcement: r.enforcement, namespace, value: 0 };
        s.value += r.violations;
        series.set(k, s);
      }
    }
    metrics.violations.reset();
    for (const s of series.values()) metrics.violations.set({ rule: s.rule, enforcement: s.enforcement, namespace: s.namespace }, s.value);
    for (const [state, n] of Object.entries(objects)) metrics.objects.set({ state }, n);
  }
}

/** What identifies the policy a verdict was made with: a sweep follows only a real change of bundles or data. */
function policyKeyOf(snapshot: Snapshot): string {
  const data = createHash('sha256').update(snapshot.source.data).digest('hex');
  return `${JSON.stringify(snapshot.revisions)}\u0000${data}`;
}

/** The rules of the verdict replaced: the stored one's, or those a report recorded (its fingerprint). */
function rulesOf(previous: Verdict | undefined, fingerprint: string): string[] {
  if (previous) return previous.findings.map((f) => f.rule);
  if (fingerprint === '' || fingerprint.startsWith('error\u0000')) return [];
  return fingerprint.split('\u0001').map((f) => f.slice(0, f.indexOf('\u0000')));
}

function sameRecord(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

/** The next `synced` (undefined) or `failure` (its error) of a reflector, with a way to stop waiting. */
function nextEvent(r: Reflector<Obj, Verdict>, event: 'synced' | 'failure'): { promise: Promise<Error | undefined>; cancel(): void } {
  const emitter = r as unknown as EventEmitter;
  let listener: (err?: Error) => void = () => {};
  const promise = new Promise<Error | undefined>((resolve) => {
    listener = (err?: Error) => resolve(err);
    emitter.once(event, listener);
  });
  return { promise, cancel: () => emitter.off(event, listener) };
}
