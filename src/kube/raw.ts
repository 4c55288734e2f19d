import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent, request as httpsRequest, type RequestOptions } from 'node:https';
import { ApiException, type KubeConfig } from '@kubernetes/client-node';

/**
 * Plain JSON requests to the API server, with the kubeconfig's credentials. The generated clients turn
 * objects into their model classes, which drop fields the models do not know (a field newer than the
 * client) and cost a copy of every object; what is judged must be the object as the API server stores
 * it, so lists, writes and deletes of arbitrary kinds go through here. Errors are ApiExceptions, as the
 * generated clients throw, so kube/errors.ts reads them alike.
 */
export class RawClient {
  private agent: Agent | undefined;
  /** Requests made, by verb: what a sweep costs the API server. */
  readonly calls = { list: 0, get: 0, apply: 0, delete: 0 };

  constructor(
    private readonly kc: KubeConfig,
    private readonly timeoutMs = 60_000,
  ) {}

  /** One page of a collection: GET path?limit&continue&labelSelector, parsed as it came. */
  async list<T>(path: string, query: { limit?: number; _continue?: string; labelSelector?: string; fieldSelector?: string } = {}): Promise<{ items: T[]; metadata?: { resourceVersion?: string; _continue?: string } }> {
    this.calls.list++;
    const params = new URLSearchParams();
    if (query.limit) params.set('limit', String(query.limit));
    if (query._continue) params.set('continue', query._continue);
    if (query.labelSelector) params.set('labelSelector', query.labelSelector);
    if (query.fieldSelector) params.set('fieldSelector', query.fieldSelector);
    const body = (await this.send('GET', params.size > 0 ? `${path}?${params}` : path)) as { items?: T[]; metadata?: { resourceVersion?: string; continue?: string } };
    return { items: body.items ?? [], metadata: { ...(body.metadata?.resourceVersion ? { resourceVersion: body.metadata.resourceVersion } : {}), ...(body.metadata?.continue ? { _continue: body.metadata.continue } : {}) } };
  }

  async get<T>(path: string): Promise<T> {
    this.calls.get++;
    return (await this.send('GET', path)) as T;
  }

  /**
   * Server-side apply (create or update in one call, no resourceVersion to carry): the fields this manager
   * sent are its own, and an object applied unchanged is not written again.
   */
  async apply<T>(path: string, object: unknown, fieldManager: string): Promise<T> {
    this.calls.apply++;
    return (await this.send('PATCH', `${path}?fieldManager=${encodeURIComponent(fieldManager)}&force=true`, object, 'application/apply-patch+yaml')) as T;
  }

  async delete(path: string): Promise<void> {
    this.calls.delete++;
    await this.send('DELETE', path);
  }

  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
  }

  private async send(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<unknown> {
    const cluster = this.kc.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    const url = new URL(cluster.server.replace(/\/+$/, '') + path);
    // Credentials (a service account token is re-read) per request; the TLS connection is kept and reused.
    const opts: RequestOptions = { headers: {} };
    await this.kc.applyToHTTPSOptions(opts);
    const tls = url.protocol === 'https:';
    if (tls) this.agent ??= new Agent({ keepAlive: true, maxSockets: 4, ...pick(opts) });
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers = { ...(opts.headers as Record<string, string>), accept: 'application/json', ...(payload ? { 'content-type': contentType, 'content-length': String(payload.length) } : {}) };
    return new Promise((resolve, reject) => {
      const req = (tls ? httpsRequest : httpRequest)(url, { method, headers, ...(tls ? { agent: this.agent } : {}), ...(opts.auth ? { auth: opts.auth } : {}) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = text === '' ? undefined : JSON.parse(text);
          } catch {
            parsed = text;
          }
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve(parsed);
          else reject(new ApiException(status, `${method} ${url.pathname}: HTTP ${status}`, parsed, headersOf(res.headers)));
        });
      });
      req.setTimeout(this.timeoutMs, () => req.destroy(new Error(`${method} ${url.pathname} took longer than ${this.timeoutMs}ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }
}

/** The TLS settings the kubeconfig put on the request options, for an agent of our own that keeps its connections. */
function pick(opts: RequestOptions) {
  const { ca, cert, key, pfx, passphrase, rejectUnauthorized, servername } = opts;
  return Object.fromEntries(Object.entries({ ca, cert, key, pfx, passphrase, rejectUnauthorized, servername }).filter(([, v]) => v !== undefined));
}

function headersOf(h: IncomingHttpHeaders): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]));
}
