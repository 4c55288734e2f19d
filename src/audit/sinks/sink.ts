/** Where sealed audit lines go. write() must not block the caller; slow sinks buffer and count what they drop. */
export interface AuditSink {
  readonly name: string;
  /** Serialized events in order, one per line, without trailing newlines. */
  write(lines: string[]): void;
  /** Writes out what is buffered; resolves when done or when the sink gives up. */
  flush(): Promise<void>;
  close(): Promise<void>;
  health(): SinkHealth;
}

export interface SinkHealth {
  name: string;
  healthy: boolean;
  /** Events waiting to be written. */
  buffered: number;
  dropped: number;
  lastError?: string;
}
