import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import type { AuditSink, SinkHealth } from './sink.js';

const gzip = promisify(gzipCb);

export interface HttpSinkOptions {
  url: string;
  headers?: Record<string, string>;
  token?: () => Promise<string>;
  /** Largest compressed upload, as OPA's upload_size_limit_bytes. */
  maxBatchBytes: number;
  minDelayMs: number;
  maxDelayMs: number;
  /** Events held while the service is slow or down; beyond it the oldest are dropped and counted. */
  maxBufferEvents: number;
  timeoutMs: number;
  /** Called (rate limited by the caller) when events are dropped. */
  onDrop?: (count: number) => void;
  fetch?: typeof fetch;
}

/**
 * Uploads events to an OPA-compatible decision log service: gzipped JSON arrays POSTed in batches, by size
 * and by time. One upload runs at a time; a failed batch stays at the head of the buffer and is retried
 * with exponential backoff, so nothing is lost while the buffer has room.
 */
export class HttpSink implements AuditSink {
  readonly name: string;
  private buffer: string[] = [];
  private dropped = 0;
  private failures = 0;
  private lastError: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Uploads run strictly one after another (timer and flush alike), so a batch is never sent twice. */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: HttpSinkOptions) {
    this.name = `http:${new URL(options.url).host}`;
    this.schedule(options.minDelayMs);
  }

  write(lines: string[]): void {
    for (const line of lines) this.buffer.push(line);
    if (this.buffer.length > this.options.maxBufferEvents) {
      const excess = this.buffer.length - this.options.maxBufferEvents;
      this.buffer.splice(0, excess);
      this.dropped += excess;
      this.options.onDrop?.(excess);
    }
  }

  /** Uploads everything buffered now; gives up on the first failure (the events stay buffered). */
  async flush(): Promise<void> {
    while (this.buffer.length > 0) {
      const ok = await this.upload();
      if (!ok) return;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.flush();
  }

  health(): SinkHealth {
    return { name: this.name, healthy: this.failures === 0, buffered: this.buffer.length, dropped: this.dropped, ...(this.lastError ? { lastError: this.lastError } : {}) };
  }

  private schedule(delay: number): void {
    if (this.closed) return;
    this.timer = setTimeout(() => void this.tick(), delay);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    let ok = true;
    while (ok && this.buffer.length > 0 && !this.closed) ok = await this.upload();
    const { minDelayMs, maxDelayMs } = this.options;
    const delay = ok ? minDelayMs + Math.random() * Math.max(0, maxDelayMs - minDelayMs) : Math.min(maxDelayMs * 6, minDelayMs * 2 ** Math.min(this.failures, 10)) * (0.5 + Math.random() / 2);
    this.schedule(delay);
  }

  /** Sends one batch from the head of the buffer; true when it was accepted (or nothing was left to send). */
  private upload(): Promise<boolean> {
    const run = this.queue.then(() => this.send());
    this.queue = run;
    return run;
  }

  private async send(): Promise<boolean> {
    if (this.buffer.length === 0) return true;
    const droppedBefore = this.dropped;
    let count = this.batchSize();
    let body = await gzip(`[${this.buffer.slice(0, count).join(',')}]`);
    // Halve until the compressed batch fits (a single oversized event is sent alone).
    while (body.length > this.options.maxBatchBytes && count > 1) {
      count = Math.ceil(count / 2);
      body = await gzip(`[${this.buffer.slice(0, count).join(',')}]`);
    }
    try {
      const headers: Record<string, string> = { 'content-type': 'application/json', 'content-encoding': 'gzip', ...this.options.headers };
      if (this.options.token) headers.authorization = `Bearer ${await this.options.token()}`;
      const res = await (this.options.fetch ?? fetch)(this.options.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(this.options.timeoutMs) });
      await res.body?.cancel();
      if (res.status < 200 || res.status > 299) throw new Error(`decision log service answered ${res.status}`);
      // Overflow while this upload was in flight already removed the oldest events, some of them from this batch.
      this.buffer.splice(0, Math.max(0, count - (this.dropped - droppedBefore)));
      this.failures = 0;
      this.lastError = undefined;
      return true;
    } catch (err) {
      this.failures++;
      this.lastError = (err as Error).message;
      return false;
    }
  }

  /** Events in the next batch, estimating ~8x gzip compression of JSON to start from. */
  private batchSize(): number {
    let bytes = 0;
    let i = 0;
    while (i < this.buffer.length && (i === 0 || bytes + (this.buffer[i] as string).length <= this.options.maxBatchBytes * 8)) {
      bytes += (this.buffer[i] as string).length + 1;
      i++;
    }
    return i;
  }
}
