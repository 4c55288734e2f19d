// Dry-run creates through the test API server, answered the way kubectl sees them: the status, the
// refusal's message and the Warning headers (which @kubernetes/client-node does not hand back). Optionally
// as another user, by impersonation (the admin may impersonate anyone).
import { Agent, request } from 'node:https';
import type { RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

export interface DryRunAnswer {
  status: number;
  /** The Status message of a refusal ('' when created). */
  message: string;
  /** The text of each Warning header (299 - "<text>"). */
  warnings: string[];
}

export interface DryRunClient {
  /** POSTs obj to the collection path (/api/v1/namespaces/x/pods) with dryRun=All. */
  create(path: string, obj: unknown, asUser?: { user: string; groups?: string[] }): Promise<DryRunAnswer>;
  close(): void;
}

export async function dryRunClient(kc: KubeConfig, maxSockets = 16): Promise<DryRunClient> {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error('the kubeconfig names no cluster');
  const tls: RequestOptions = {};
  await kc.applyToHTTPSOptions(tls);
  const agent = new Agent({ keepAlive: true, maxSockets, ca: tls.ca, cert: tls.cert, key: tls.key });
  return {
    create(path, obj, asUser) {
      const body = Buffer.from(JSON.stringify(obj));
      const headers: Record<string, string | string[]> = { 'content-type': 'application/json', 'content-length': String(body.length) };
      if (asUser) {
        headers['impersonate-user'] = asUser.user;
        if (asUser.groups) headers['impersonate-group'] = asUser.groups;
      }
      return new Promise((resolve, reject) => {
        const req = request(`${server}${path}?dryRun=All`, { method: 'POST', agent, headers }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let message = '';
            if ((res.statusCode ?? 0) >= 300) {
              try {
                message = String((JSON.parse(text) as { message?: unknown }).message ?? text);
              } catch {
                message = text;
              }
            }
            const raw = res.headers.warning;
            const warnings = (Array.isArray(raw) ? raw : raw ? [raw] : []).flatMap(warningTexts);
            resolve({ status: res.statusCode ?? 0, message, warnings });
          });
        });
        req.on('error', reject);
        req.end(body);
      });
    },
    close: () => agent.destroy(),
  };
}

/**
 * `299 - "a", 299 - "text with \"quotes\""` -> [`a`, `text with "quotes"`]: Node joins repeated Warning headers
 * with ", ", and each warn-text is a quoted string (RFC 7234).
 */
function warningTexts(header: string): string[] {
  return [...header.matchAll(/\d{3} \S+ "((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!.replace(/\\(.)/g, '$1'));
}
