import { EventEmitter } from 'node:events';
import { unwatchFile, watchFile } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { KeyPair } from './authority.js';
import type { TlsConfig } from './config.js';
import { ensureDevCertificates } from './dev.js';
import { certInfo } from './pem.js';

export interface TlsMaterial {
  cert: string;
  key: string;
  /** CA bundle to hand to clients (the API server's caBundle), when known. */
  ca?: string;
  /** The CA that signs, when Portcullis keeps it (tls.mode dev and secret): the mesh CA of the workload certificates. */
  signer?: KeyPair;
  notAfter: Date;
}

/** Where the material comes from when it is neither dev nor files: Kubernetes mode's Secret (secret-source.ts). */
export interface TlsSource {
  /** Resolves once the first material has been set on the provider; later material is set as it changes. Its owner stops it. */
  start(provider: TlsProvider): Promise<void>;
}

/**
 * The serving certificate of the HTTPS front doors. Servers read current() at start and swap their secure
 * context on 'change', so a renewed certificate is served without a restart or a dropped connection.
 */
export class TlsProvider extends EventEmitter<{ change: [TlsMaterial]; error: [Error] }> {
  private material: TlsMaterial | undefined;
  private watched: string[] = [];

  constructor(
    private readonly config: TlsConfig,
    private readonly source?: TlsSource,
  ) {
    super();
  }

  async start(): Promise<void> {
    if (this.config.mode === 'secret') {
      if (!this.source) throw new Error('tls.mode "secret" needs mode: kubernetes (the Secret is read through the API server)');
      await this.source.start(this);
      return;
    }
    if (this.config.mode === 'dev') {
      const dev = await ensureDevCertificates(this.config.dir);
      this.set({ cert: dev.serving.cert, key: dev.serving.key, ca: dev.ca.cert, signer: dev.ca, notAfter: certInfo(dev.serving.cert).notAfter });
      return;
    }
    const { certFile, keyFile } = this.config;
    if (!certFile || !keyFile) throw new Error('tls.mode "files" needs tls.certFile and tls.keyFile');
    await this.reload(certFile, keyFile);
    // cert-manager and kubelet replace mounted Secrets atomically; polling stat notices either file.
    for (const f of [certFile, keyFile]) {
      watchFile(f, { interval: 2000, persistent: false }, () => void this.reload(certFile, keyFile).catch((err: Error) => this.emit('error', err)));
      this.watched.push(f);
    }
  }

  stop(): void {
    for (const f of this.watched) unwatchFile(f);
  }

  current(): TlsMaterial {
    if (!this.material) throw new Error('TLS material not loaded yet');
    return this.material;
  }

  /** Replaces the served certificate (rotation); servers pick it up from the 'change' event. */
  set(material: TlsMaterial): void {
    this.material = material;
    this.emit('change', material);
  }

  private async reload(certFile: string, keyFile: string): Promise<void> {
    const [cert, key] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
    if (this.material && this.material.cert === cert && this.material.key === key) return;
    this.set({ cert, key, notAfter: certInfo(cert).notAfter });
  }
}

/** Node TLS options shared by every HTTPS listener: TLS 1.2 at least, no renegotiation games. */
export function serverTlsOptions(material: TlsMaterial, minVersion: 'TLSv1.2' | 'TLSv1.3') {
  return { cert: material.cert, key: material.key, minVersion, honorCipherOrder: true } as const;
}
