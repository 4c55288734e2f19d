import type { AuditConfig } from '../audit/config.js';
import { FileSink } from '../audit/sinks/file.js';
import { HttpSink } from '../audit/sinks/http.js';
import type { AuditSink } from '../audit/sinks/sink.js';
import { StdoutSink } from '../audit/sinks/stdout.js';
import type { Logger } from './logger.js';
import { tokenFile } from './token-file.js';

/** Builds the configured sinks. Drops are logged at most once a minute per sink (and always counted in metrics). */
export function createSinks(config: AuditConfig, stdout: ConstructorParameters<typeof StdoutSink>[0], log: Logger): AuditSink[] {
  return config.sinks.map((sink) => {
    switch (sink.type) {
      case 'stdout':
        return new StdoutSink(stdout);
      case 'file':
        return new FileSink({ path: sink.path, maxBytes: sink.maxBytes, maxFiles: sink.maxFiles });
      case 'http': {
        let lastLog = 0;
        let since = 0;
        return new HttpSink({
          url: sink.url,
          headers: sink.headers,
          ...(sink.bearerTokenFile ? { token: tokenFile(sink.bearerTokenFile) } : {}),
          maxBatchBytes: sink.maxBatchBytes,
          minDelayMs: sink.minDelaySeconds * 1000,
          maxDelayMs: sink.maxDelaySeconds * 1000,
          maxBufferEvents: sink.maxBufferEvents,
          timeoutMs: sink.timeoutSeconds * 1000,
          onDrop: (count) => {
            since += count;
            if (Date.now() - lastLog < 60_000) return;
            log.warn({ sink: new URL(sink.url).host, dropped: since }, 'audit buffer full: oldest events dropped');
            lastLog = Date.now();
            since = 0;
          },
        });
      }
    }
  });
}
