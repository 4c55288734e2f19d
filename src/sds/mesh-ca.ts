import { createPrivateKey } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { unwatchFile, watchFile } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { KeyPair } from '../certs/authority.js';
import { certInfo, joinPems, sameCert, splitPems } from '../certs/pem.js';
import type { TlsMaterial, TlsProvider } from '../certs/provider.js';
import type { SdsConfig } from './config.js';

/**
 * The CA that signs workload certificates and the trust bundle the proxies validate each other with: the
 * mesh CA Portcullis keeps (the TLS provider's signer and bundle, rotation included), or files an operator
 * provides (sds.ca, re-read when they change). A CA that signed certificates this server handed out stays in
 * the bundle it serves until the last of them expires, so a rollover that drops it from the Secret early
 * never leaves a live certificate untrusted.
 */
export class MeshCa extends EventEmitter<{ change: [] }> {
  private signing: KeyPair | undefined;
  private base: string[] = [];
  /** Signers of certificates issued here, with when the last one expires. */
  private readonly issuedBy = new Map<string, number>();
  private readonly onTls = (m: TlsMaterial) => this.fromTls(m);
  private watched: string[] = [];

  constructor(
    private readonly tls: TlsProvider,
    private readonly files: SdsConfig['ca'],
  ) {
    super();
  }

  async start(): Promise<void> {
    const files = this.files;
    if (files) {
      await this.reload(files);
      for (const f of [files.certFile, files.keyFile, ...(files.bundleFile ? [files.bundleFile] : [])]) {
        watchFile(f, { interval: 2000, persistent: false }, () => void this.reload(files).catch(() => undefined));
        this.watched.push(f);
      }
      return;
    }
    const m = this.tls.current();
    if (!m.signer) throw new Error('SDS needs a CA to sign workload certificates: tls.mode dev or secret (the mesh CA Portcullis keeps), or sds.ca files');
    this.fromTls(m);
    this.tls.on('change', this.onTls);
  }

  stop(): void {
    this.tls.off('change', this.onTls);
    for (const f of this.watched) unwatchFile(f);
  }

  signer(): KeyPair {
    if (!this.signing) throw new Error('no CA loaded');
    return this.signing;
  }

  /** The PEM bundle the proxies validate peers with. */
  trustBundle(now = Date.now()): string {
    const pems = [...this.base];
    for (const [pem, until] of this.issuedBy) {
      if (until <= now) this.issuedBy.delete(pem);
      else if (!pems.some((p) => sameCert(p, pem))) pems.push(pem);
    }
    return joinPems(pems);
  }

  /** Records that `signer` issued a certificate valid until `notAfter`. */
  issued(signer: KeyPair, notAfter: Date): void {
    const until = Math.max(this.issuedBy.get(signer.cert) ?? 0, notAfter.getTime());
    this.issuedBy.set(signer.cert, until);
  }

  private fromTls(m: TlsMaterial): void {
    if (!m.signer) return;
    const base = m.ca ? splitPems(m.ca) : [m.signer.cert];
    this.set(m.signer, base.some((p) => sameCert(p, m.signer!.cert)) ? base : [...base, m.signer.cert]);
  }

  private async reload(files: NonNullable<SdsConfig['ca']>): Promise<void> {
    const [cert, key, bundle] = await Promise.all([readFile(files.certFile, 'utf8'), readFile(files.keyFile, 'utf8'), files.bundleFile ? readFile(files.bundleFile, 'utf8') : undefined]);
    certInfo(cert);
    this.set({ cert, key }, splitPems(bundle ?? cert));
  }

  private set(signer: KeyPair, base: string[]): void {
    // Workload certificates are built with node-forge, which signs with RSA only.
    if (createPrivateKey(signer.key).asymmetricKeyType !== 'rsa') throw new Error('the CA that signs workload certificates must have an RSA key (sds.ca.keyFile)');
    const changed = this.signing?.cert !== signer.cert || this.signing.key !== signer.key || joinPems(this.base) !== joinPems(base);
    this.signing = signer;
    this.base = base;
    if (changed) this.emit('change');
  }
}
