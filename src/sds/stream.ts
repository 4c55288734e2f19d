import { randomUUID } from 'node:crypto';
import type { KeyPair } from '../certs/authority.js';
import { TRUST_BUNDLE, WORKLOAD_CERTIFICATE } from '../certs/workload.js';
import { encodeSecret, SECRET_TYPE } from './protos.js';

/** A DiscoveryRequest as proto-loader gives it (proto field names, defaults filled). */
export interface DiscoveryRequest {
  version_info: string;
  resource_names: string[];
  type_url: string;
  response_nonce: string;
  error_detail?: { code?: number; message?: string } | null;
}

export interface DiscoveryResponse {
  version_info: string;
  resources: Array<{ type_url: string; value: Buffer }>;
  type_url: string;
  nonce: string;
}

export interface Issued extends KeyPair {
  notAfter: Date;
  serial: string;
}

/** What a stream needs from its server: certificates for its identity, the bundle, and where answers go. */
export interface StreamDeps {
  issue(): Promise<Issued>;
  trustBundle(): string;
  renewBeforeMs: number;
  send(response: DiscoveryResponse): void;
  /** Ends the stream with an error the proxy sees (it retries with backoff). */
  fail(reason: string): void;
  /** The proxy refused what it was sent (a NACK). */
  nack(message: string): void;
}

export const SECRET_NAMES = [WORKLOAD_CERTIFICATE, TRUST_BUNDLE];

/** Why a request asks for what this server does not serve, or undefined when it may be answered. */
export function refusal(req: DiscoveryRequest): string | undefined {
  if (req.type_url !== SECRET_TYPE) return `type_url ${JSON.stringify(req.type_url)}: this server serves ${SECRET_TYPE} only`;
  const unknown = req.resource_names.filter((n) => !SECRET_NAMES.includes(n));
  if (unknown.length > 0) {
    return `unknown secret ${unknown.map((n) => JSON.stringify(n)).join(', ')}: this server serves "${WORKLOAD_CERTIFICATE}" (the workload certificate of the caller's own identity) and "${TRUST_BUNDLE}" (the mesh trust bundle)`;
  }
  if (req.resource_names.length === 0) return 'the request names no secret (a wildcard subscription is not served)';
  return undefined;
}

/**
 * One proxy's SDS stream, in the state-of-the-world protocol: every response carries every secret the
 * proxy asked for; a request that only acknowledges the last response (its nonce, the same names) gets
 * nothing. The certificate is issued when first asked for and again renewBefore its expiry, and the trust
 * bundle sent again when it changes; each is pushed without being asked, with a new version.
 */
export class SecretStream {
  private names: string[] = [];
  private nonce = '';
  private version = 0;
  private cert: Issued | undefined;
  private renewal: NodeJS.Timeout | undefined;
  private bundle = '';
  private closed = false;
  /** Sends are serialized: an issuance takes time, and a newer one must not be overtaken by an older. */
  private sending: Promise<void> = Promise.resolve();

  constructor(private readonly deps: StreamDeps) {}

  /** Handles a request; refuses (and ends the stream) what this server does not serve. */
  onRequest(req: DiscoveryRequest): void {
    if (this.closed) return;
    const refused = refusal(req);
    if (refused) return this.deps.fail(refused);
    if (req.error_detail?.message) this.deps.nack(req.error_detail.message);
    const names = [...new Set(req.resource_names)].sort();
    const same = names.join() === this.names.join();
    // An ACK (or a NACK) of the last response: nothing new to send.
    if (same && req.response_nonce !== '' && req.response_nonce === this.nonce) return;
    this.names = names;
    this.push();
  }

  /** The trust bundle changed (a CA rollover): proxies that asked for it get it. */
  trustChanged(): void {
    if (!this.closed && this.names.includes(TRUST_BUNDLE) && this.deps.trustBundle() !== this.bundle) this.push();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.renewal);
  }

  private push(renew = false): void {
    this.sending = this.sending.then(() => this.respond(renew)).catch((err: Error) => this.deps.fail(`the certificate could not be issued: ${err.message}`));
  }

  private async respond(renew: boolean): Promise<void> {
    if (this.closed) return;
    const resources: DiscoveryResponse['resources'] = [];
    for (const name of this.names) {
      if (name === WORKLOAD_CERTIFICATE) {
        if (!this.cert || renew || this.cert.notAfter.getTime() - Date.now() <= this.deps.renewBeforeMs) await this.issue();
        const cert = this.cert as Issued;
        resources.push(secret({ name, tls_certificate: { certificate_chain: { inline_bytes: Buffer.from(cert.cert) }, private_key: { inline_bytes: Buffer.from(cert.key) } } }));
      } else {
        this.bundle = this.deps.trustBundle();
        resources.push(secret({ name, validation_context: { trusted_ca: { inline_bytes: Buffer.from(this.bundle) } } }));
      }
    }
    if (this.closed) return;
    this.nonce = randomUUID();
    this.deps.send({ version_info: String(++this.version), resources, type_url: SECRET_TYPE, nonce: this.nonce });
  }

  private async issue(): Promise<void> {
    this.cert = await this.deps.issue();
    clearTimeout(this.renewal);
    // Renewed renewBefore its expiry (at once if it is that short), and pushed without being asked.
    const at = Math.max(1000, this.cert.notAfter.getTime() - this.deps.renewBeforeMs - Date.now());
    this.renewal = setTimeout(() => this.push(true), Math.min(at, 2 ** 31 - 1));
    this.renewal.unref();
  }
}

function secret(value: Record<string, unknown>): { type_url: string; value: Buffer } {
  return { type_url: SECRET_TYPE, value: encodeSecret(value) };
}
