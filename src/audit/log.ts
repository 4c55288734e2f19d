import { randomUUID } from 'node:crypto';
import { HashChain } from './chain.js';
import type { DecisionEvent, DecisionRecord } from './event.js';
import { Masker, scrubTokens, type SerializedInput } from './mask.js';
import type { AuditSink, SinkHealth } from './sinks/sink.js';
import { stringify } from '../policy/value/raw-number.js';

export interface AuditLogOptions {
  sinks: AuditSink[];
  /** Extra JSON pointers to mask in every input. */
  mask?: string[];
  /** Static labels (instance id, version) added to every event. */
  labels: Record<string, string>;
  /** Recent events kept in memory for the observability API. */
  recent?: number;
  /** False leaves policy inputs out of the log (only results and summaries are kept). */
  includeInput?: boolean;
  /** How long recorded events may wait to be sealed and written together, in ms. */
  batchMs?: number;
}

export interface RecentQuery {
  kind?: string;
  decision?: string;
  rule?: string;
  limit?: number;
}

/**
 * The decision log. record() only queues: masking, hashing, serializing and writing happen a few
 * milliseconds later for everything recorded meanwhile, in one batch and one write per sink, so the audit
 * trail costs a decision almost nothing.
 */
export class AuditLog {
  private readonly chain = new HashChain();
  private readonly masker: Masker;
  /** Recent lines with what the API filters on; lines rather than objects keep the garbage collector's work small. */
  private readonly ring: RingEntry[] = [];
  private ringNext = 0;
  private readonly ringSize: number;
  private pending: Pending[] = [];
  private scheduled = false;
  private counter = 0;
  private listeners: Array<(e: DecisionEvent, line: string) => void> = [];

  constructor(private readonly options: AuditLogOptions) {
    this.masker = new Masker(options.mask);
    this.ringSize = options.recent ?? 100;
  }

  /** Queues one decision and returns its decision_id. */
  record(record: DecisionRecord): string {
    const { serializedInput, ...fields } = record;
    const decision_id = record.decision_id ?? randomUUID();
    this.pending.push({ event: { ...fields, decision_id, timestamp: timestamp(), labels: this.options.labels }, serializedInput });
    if (!this.scheduled) {
      this.scheduled = true;
      setTimeout(() => this.drain(), this.options.batchMs ?? 5);
    }
    return decision_id;
  }

  /** Called with every sealed event (metrics, tests) and its line; only the line has an input recorded serialized. */
  onEvent(listener: (e: DecisionEvent, line: string) => void): void {
    this.listeners.push(listener);
  }

  /** Newest first. */
  recent(query: RecentQuery = {}): DecisionEvent[] {
    const out: DecisionEvent[] = [];
    const n = this.ring.length;
    for (let k = 1; k <= n && out.length < (query.limit ?? 100); k++) {
      const e = this.ring[(this.ringNext - k + n) % n] as RingEntry;
      if (query.kind && e.kind !== query.kind) continue;
      if (query.decision && e.decision !== query.decision) continue;
      if (query.rule && !e.rules.includes(query.rule)) continue;
      out.push(JSON.parse(e.line) as DecisionEvent);
    }
    return out;
  }

  get sealed(): number {
    return this.counter;
  }

  health(): SinkHealth[] {
    return this.options.sinks.map((s) => s.health());
  }

  async flush(): Promise<void> {
    this.drain();
    await Promise.all(this.options.sinks.map((s) => s.flush()));
  }

  async close(): Promise<void> {
    this.drain();
    await Promise.all(this.options.sinks.map((s) => s.close()));
  }

  private drain(): void {
    this.scheduled = false;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    const lines: string[] = [];
    for (const { event, serializedInput } of batch) {
      let input = serializedInput;
      if (this.options.includeInput === false) {
        delete event.input;
        input = undefined;
      } else if (event.input !== undefined) {
        const { input: masked, masked: paths } = this.masker.mask(event.input);
        event.input = masked;
        if (paths.length > 0) event.masked = paths;
      }
      if (input && input.masked.length > 0) event.masked = input.masked;
      const line = this.chain.seal(event, (e) => scrubTokens(input ? withInput(stringify(e), input.json) : stringify(e)));
      this.counter++;
      lines.push(line);
      if (this.ringSize > 0) {
        const entry: RingEntry = { line, kind: event.kind, decision: event.decision, rules: event.admission?.rules ?? event.posture?.rules ?? (event.authz ? [event.authz.reason] : event.sds ? [event.sds.reason] : []) };
        if (this.ring.length < this.ringSize) this.ring.push(entry);
        else this.ring[this.ringNext] = entry;
        this.ringNext = (this.ringNext + 1) % this.ringSize;
      }
      for (const l of this.listeners) l(event, line);
    }
    for (const sink of this.options.sinks) sink.write(lines);
  }
}

interface Pending {
  event: DecisionEvent;
  serializedInput: SerializedInput | undefined;
}

/** An event's JSON with the input's JSON as its first field: the input is not serialized a second time. */
function withInput(eventJson: string, inputJson: string): string {
  return `{"input":${inputJson},${eventJson.slice(1)}`;
}

interface RingEntry {
  line: string;
  kind: string;
  decision: string;
  rules: string[];
}

/** RFC 3339 with nanosecond digits like OPA's timestamps; the sub-millisecond digits come from the monotonic clock. */
function timestamp(): string {
  const ms = Date.now();
  // Formatting a Date is the costly part; within one millisecond only the last digits change.
  if (ms !== lastMs) {
    lastMs = ms;
    lastPrefix = new Date(ms).toISOString().slice(0, 23);
  }
  const nanos = String(Math.floor((performance.now() % 1) * 1e6)).padStart(6, '0');
  return `${lastPrefix}${nanos}Z`;
}

let lastMs = 0;
let lastPrefix = '';
