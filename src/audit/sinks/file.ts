import { createWriteStream, existsSync, mkdirSync, openSync, renameSync, statSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import type { AuditSink, SinkHealth } from './sink.js';

export interface FileSinkOptions {
  path: string;
  /** Size at which the file is rotated to path.1 (path.1 to path.2, ...). */
  maxBytes: number;
  /** Rotated files kept besides the current one. */
  maxFiles: number;
  /** Bytes waiting for the disk beyond which new lines are dropped (and counted) instead of growing memory. */
  maxBufferBytes?: number;
}

/**
 * Audit lines appended to a file, rotated by size. Writes are asynchronous; rotation is a rename, so lines
 * still in flight land in the file they were written to and the chain continues in order across files
 * (verify them oldest first: `portcullis audit verify path.2 path.1 path`).
 */
export class FileSink implements AuditSink {
  readonly name: string;
  private stream: WriteStream;
  private size: number;
  private dropped = 0;
  private lastError: string | undefined;

  constructor(private readonly options: FileSinkOptions) {
    this.name = `file:${options.path}`;
    mkdirSync(dirname(options.path), { recursive: true });
    this.size = existsSync(options.path) ? statSync(options.path).size : 0;
    this.stream = this.open();
  }

  /** One write per batch (per file, when it rotates): the per-write cost of a stream is larger than that of a few more bytes. */
  write(lines: string[]): void {
    if (this.stream.writableLength > (this.options.maxBufferBytes ?? 16 * 1024 * 1024)) {
      this.dropped += lines.length;
      return;
    }
    const sizes = lines.map((line) => Buffer.byteLength(line) + 1);
    let first = 0;
    for (const [i, bytes] of sizes.entries()) {
      if (this.size > 0 && this.size + bytes > this.options.maxBytes) {
        this.writeLines(lines, sizes, first, i);
        first = i;
        this.rotate();
      }
      this.size += bytes;
    }
    this.writeLines(lines, sizes, first, lines.length);
  }

  /**
   * Lines [from, to) encoded straight into one buffer: concatenating them into a string first would copy
   * every line once more (and flatten the result) before the stream encodes it anyway.
   */
  private writeLines(lines: string[], sizes: number[], from: number, to: number): void {
    if (from === to) return;
    let total = 0;
    for (let i = from; i < to; i++) total += sizes[i] as number;
    const chunk = Buffer.allocUnsafe(total);
    let offset = 0;
    for (let i = from; i < to; i++) {
      offset += chunk.write(lines[i] as string, offset);
      chunk[offset++] = 0x0a;
    }
    this.stream.write(chunk);
  }

  flush(): Promise<void> {
    if (this.stream.writableLength === 0) return Promise.resolve();
    return new Promise((resolve) => this.stream.write('', () => resolve()));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.stream.end(() => resolve()));
  }

  health(): SinkHealth {
    return { name: this.name, healthy: this.lastError === undefined, buffered: this.stream.writableLength, dropped: this.dropped, ...(this.lastError ? { lastError: this.lastError } : {}) };
  }

  /** Opens synchronously so a rotation right after (a burst of lines) renames a file that exists and is ours. */
  private open(): WriteStream {
    const fd = openSync(this.options.path, 'a', 0o640);
    const stream = createWriteStream(this.options.path, { fd });
    stream.on('error', (err) => {
      this.lastError = err.message;
    });
    return stream;
  }

  private rotate(): void {
    const { path, maxFiles } = this.options;
    this.stream.end();
    try {
      for (let i = maxFiles - 1; i >= 1; i--) if (existsSync(`${path}.${i}`)) renameSync(`${path}.${i}`, `${path}.${i + 1}`);
      renameSync(path, `${path}.1`);
    } catch (err) {
      this.lastError = `rotation failed: ${(err as Error).message}`;
    }
    this.size = 0;
    try {
      this.stream = this.open();
    } catch (err) {
      this.lastError = `cannot open ${this.options.path}: ${(err as Error).message}`;
    }
  }
}
