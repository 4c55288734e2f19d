import type { DestinationStream } from 'pino';
import type { AuditSink, SinkHealth } from './sink.js';

type SonicBoom = DestinationStream & { flush(cb?: (err?: Error) => void): void; on(event: 'drop', cb: () => void): unknown };

/**
 * Audit lines on stdout, beside the service's own log lines. It shares the logger's pino destination
 * (asynchronous, so a slow collector never stalls a decision): one writer per file descriptor means lines
 * from the two can never interleave mid-line. The destination drops past its maxLength and says so.
 */
export class StdoutSink implements AuditSink {
  readonly name = 'stdout';
  private dropped = 0;

  constructor(private readonly dest: SonicBoom) {
    dest.on('drop', () => this.dropped++);
  }

  write(lines: string[]): void {
    this.dest.write(`${lines.join('\n')}\n`);
  }

  flush(): Promise<void> {
    return new Promise((resolve) => this.dest.flush(() => resolve()));
  }

  async close(): Promise<void> {
    await this.flush();
  }

  health(): SinkHealth {
    return { name: this.name, healthy: true, buffered: 0, dropped: this.dropped };
  }
}
