import { readArchive } from '../bundle/archive.js';
import { BundleError } from '../bundle/errors.js';
import type { BundleLimits } from '../bundle/files.js';
import type { BundleSource, SourceHandlers } from './source.js';

export interface HttpSourceOptions {
  name: string;
  /** Full URL of the bundle (OPA's service url + resource). */
  url: string;
  limits: BundleLimits;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
  /** Bearer token read before each request (a rotated service account token, a mounted Secret). */
  token?: () => Promise<string>;
  /** Polling delay bounds in ms, as OPA's polling.min_delay_seconds / max_delay_seconds. */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** Upper bound of the retry delay after failures. */
  maxBackoffMs?: number;
  /** Timeout of one download. */
  timeoutMs?: number;
  /** A fetch implementation, for TLS options (e.g. an undici dispatcher with a private CA). */
  fetch?: typeof fetch;
}

/**
 * Polls a bundle server the way OPA's bundle plugin does: GET with If-None-Match, 304 means unchanged,
 * 200 carries a new .tar.gz and its ETag. Each poll waits a random delay between the bounds so replicas
 * spread their requests; failures back off exponentially up to maxBackoffMs.
 */
export class HttpSource implements BundleSource {
  readonly description: string;
  private etag: string | undefined;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private abort = new AbortController();
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly options: HttpSourceOptions) {
    this.description = `http ${redact(options.url)}`;
  }

  start(handlers: SourceHandlers): void {
    const loop = async () => {
      await this.poll(handlers);
      if (!this.stopped) {
        this.timer = setTimeout(() => {
          this.running = loop();
        }, this.nextDelay());
      }
    };
    this.running = loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort.abort();
    await this.running;
  }

  private nextDelay(): number {
    const min = this.options.minDelayMs ?? 60_000;
    const max = Math.max(min, this.options.maxDelayMs ?? 120_000);
    if (this.failures === 0) return min + Math.random() * (max - min);
    // Exponential backoff with full jitter, as OPA's bundle downloader does after errors.
    const cap = this.options.maxBackoffMs ?? 120_000;
    const base = Math.min(cap, 500 * 2 ** Math.min(this.failures, 16));
    return Math.max(100, Math.random() * base);
  }

  private async poll(handlers: SourceHandlers): Promise<void> {
    const { name, url, limits } = this.options;
    const headers: Record<string, string> = { accept: 'application/gzip, application/octet-stream', ...this.options.headers };
    if (this.etag) headers['if-none-match'] = this.etag;
    try {
      if (this.options.token) headers.authorization = `Bearer ${await this.options.token()}`;
      const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.options.timeoutMs ?? 30_000)]);
      const res = await (this.options.fetch ?? fetch)(url, { headers, signal, redirect: 'follow' });
      if (res.status === 304) {
        await res.body?.cancel();
        this.failures = 0;
        return;
      }
      if (res.status !== 200) {
        await res.body?.cancel();
        throw new BundleError(name, `bundle server answered ${res.status} ${res.statusText} for ${redact(url)}`);
      }
      const archive = await readBody(name, res, limits.maxArchiveBytes);
      const etag = res.headers.get('etag') ?? undefined;
      const files = await readArchive(name, archive, limits);
      // Remember the ETag even if the bundle turns out bad: the same bad bundle is not worth downloading again.
      this.etag = etag;
      this.failures = 0;
      await handlers.update(files, etag ? { etag } : {});
    } catch (err) {
      if (this.stopped) return;
      this.failures++;
      handlers.error(err instanceof BundleError ? err : new BundleError(name, `download from ${redact(url)} failed: ${(err as Error).message}`, { cause: err }));
    }
  }
}

async function readBody(name: string, res: Response, max: number): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > max) {
    await res.body?.cancel();
    throw new BundleError(name, `bundle is ${declared} bytes, over the limit of ${max}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  if (!res.body) return Buffer.alloc(0);
  for await (const chunk of res.body) {
    size += chunk.byteLength;
    if (size > max) throw new BundleError(name, `bundle is over the limit of ${max} bytes`);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

/** URLs may carry credentials in userinfo or query; keep them out of logs. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) u.username = u.password = '***';
    for (const key of u.searchParams.keys()) u.searchParams.set(key, '***');
    return u.toString();
  } catch {
    return '<invalid url>';
  }
}
