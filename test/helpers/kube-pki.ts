// Certificates for a throwaway control plane and the webhooks it calls. Keys come from node:crypto
// (native, fast); node-forge only writes the X.509 structures, which node:crypto cannot.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

export interface CertifiedKey {
  certPem: string;
  keyPem: string;
}

export interface Authority extends CertifiedKey {
  issue(leaf: LeafSpec): CertifiedKey;
}

export interface LeafSpec {
  commonName: string;
  /** Kubernetes reads a client certificate's O as the user's groups (system:masters is cluster-admin). */
  organizations?: string[];
  ips?: string[];
  dnsNames?: string[];
  usage: 'server' | 'client';
}

export interface RsaKeyPair {
  privateKeyPem: string;
  publicKeyPem: string;
}

export function rsaKeyPair(): RsaKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

// A day is longer than any test run; the hour back absorbs clock differences between processes.
function validity(cert: forge.pki.Certificate): void {
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 60 * 60 * 1000);
  cert.validity.notAfter = new Date(now + 24 * 60 * 60 * 1000);
}

// Leading 01 keeps the DER integer positive, as RFC 5280 requires of serial numbers.
const serial = (): string => `01${randomBytes(15).toString('hex')}`;

export function createAuthority(commonName: string): Authority {
  const keys = rsaKeyPair();
  const key = forge.pki.privateKeyFromPem(keys.privateKeyPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicKeyPem);
  cert.serialNumber = serial();
  validity(cert);
  const subject = [{ name: 'commonName', value: commonName }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(key, forge.md.sha256.create());
  const certPem = forge.pki.certificateToPem(cert);

  const issue = (leaf: LeafSpec): CertifiedKey => {
    const leafKeys = rsaKeyPair();
    const c = forge.pki.createCertificate();
    c.publicKey = forge.pki.publicKeyFromPem(leafKeys.publicKeyPem);
    c.serialNumber = serial();
    validity(c);
    c.setSubject([
      { name: 'commonName', value: leaf.commonName },
      ...(leaf.organizations ?? []).map((value) => ({ name: 'organizationName', value })),
    ]);
    c.setIssuer(cert.subject.attributes);
    const altNames = [
      ...(leaf.dnsNames ?? []).map((value) => ({ type: 2, value })),
      ...(leaf.ips ?? []).map((ip) => ({ type: 7, ip })),
    ];
    c.setExtensions([
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: leaf.usage === 'server', clientAuth: leaf.usage === 'client' },
      ...(altNames.length > 0 ? [{ name: 'subjectAltName', altNames }] : []),
      { name: 'authorityKeyIdentifier', keyIdentifier: cert.generateSubjectKeyIdentifier().getBytes() },
    ]);
    c.sign(key, forge.md.sha256.create());
    return { certPem: forge.pki.certificateToPem(c), keyPem: leafKeys.privateKeyPem };
  };

  return { certPem, keyPem: keys.privateKeyPem, issue };
}

export interface ServingCert extends CertifiedKey {
  /** The PEM a webhook configuration's caBundle carries (base64 of it). */
  caPem: string;
}

/** A serving certificate for a webhook on loopback, signed by a fresh CA the API server is told to trust. */
export function webhookServingCert(ips: string[] = ['127.0.0.1'], dnsNames: string[] = ['localhost']): ServingCert {
  const ca = createAuthority('portcullis-test-webhook-ca');
  return { ...ca.issue({ commonName: ips[0] ?? dnsNames[0] ?? 'webhook', ips, dnsNames, usage: 'server' }), caPem: ca.certPem };
}
