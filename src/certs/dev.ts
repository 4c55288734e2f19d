import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createCa, issueServing, type KeyPair } from './authority.js';
import { certInfo } from './pem.js';

export interface DevCertificates {
  ca: KeyPair;
  serving: KeyPair;
  dir: string;
}

/** Names the dev serving certificate covers: loopback for local runs, the in-cluster service names for a test cluster. */
const DEV_DNS_NAMES = ['localhost', 'portcullis', 'portcullis.portcullis-system', 'portcullis.portcullis-system.svc'];

/**
 * Writes (or reuses) a dev CA and serving certificate under dir: ca.crt, ca.key, tls.crt, tls.key. They
 * are reused while they have more than a day left, so a running API server keeps trusting the same CA.
 */
export async function ensureDevCertificates(dir: string, options: { force?: boolean; validityHours?: number } = {}): Promise<DevCertificates> {
  const read = async (name: string) => readFile(join(dir, name), 'utf8').catch(() => undefined);
  const [caCert, caKey, cert, key] = await Promise.all(['ca.crt', 'ca.key', 'tls.crt', 'tls.key'].map(read));
  const fresh = (pem: string | undefined) => pem !== undefined && certInfo(pem).notAfter.getTime() - Date.now() > 24 * 3600 * 1000;
  if (!options.force && caCert && caKey && cert && key && fresh(caCert) && fresh(cert)) {
    return { ca: { cert: caCert, key: caKey }, serving: { cert, key }, dir };
  }
  const hours = options.validityHours ?? 24 * 365;
  const ca = createCa('portcullis-dev-ca', hours);
  const serving = issueServing(ca, { dnsNames: DEV_DNS_NAMES, ipAddresses: ['127.0.0.1', '::1'], validityHours: hours });
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'ca.crt'), ca.cert);
  await writeFile(join(dir, 'ca.key'), ca.key, { mode: 0o600 });
  await writeFile(join(dir, 'tls.crt'), serving.cert);
  await writeFile(join(dir, 'tls.key'), serving.key, { mode: 0o600 });
  return { ca, serving, dir };
}
