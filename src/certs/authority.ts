import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { signCertificate } from './sign.js';

/** A certificate and its private key, PEM encoded. */
export interface KeyPair {
  cert: string;
  key: string;
}

export interface ServingRequest {
  /** DNS names; the first is also the subject common name. */
  dnsNames: string[];
  ipAddresses?: string[];
  validityHours: number;
}

/** A self-managed CA: it signs the webhook's serving certificates so the API server can be given its caBundle. */
export function createCa(commonName: string, validityHours: number): KeyPair {
  const keys = rsaKeys();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  setValidity(cert, validityHours);
  const subject = [{ name: 'commonName', value: commonName }, { name: 'organizationName', value: 'Portcullis' }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true, pathLenConstraint: 0 },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  signCertificate(cert, keys.privateKey);
  return { cert: forge.pki.certificateToPem(cert), key: pkcs1(keys.privateKey) };
}

/** A leaf certificate for a TLS server, signed by the CA. */
export function issueServing(ca: KeyPair, request: ServingRequest): KeyPair {
  const caCert = forge.pki.certificateFromPem(ca.cert);
  const keys = rsaKeys();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  setValidity(cert, request.validityHours);
  cert.setSubject([{ name: 'commonName', value: request.dnsNames[0] ?? 'portcullis' }]);
  cert.setIssuer(caCert.subject.attributes);
  const altNames = [
    ...request.dnsNames.map((value) => ({ type: 2, value })),
    ...(request.ipAddresses ?? []).map((ip) => ({ type: 7, ip })),
  ];
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  signCertificate(cert, ca.key);
  return { cert: forge.pki.certificateToPem(cert), key: pkcs1(keys.privateKey) };
}

/**
 * RSA keys come from node:crypto: forge's JavaScript key generation blocks the event loop for seconds,
 * which a replica rotating its certificate while it serves cannot afford. forge only builds the X.509.
 */
function rsaKeys(): { publicKey: forge.pki.rsa.PublicKey; privateKey: KeyObject } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 0x10001 });
  return { publicKey: forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString()) as forge.pki.rsa.PublicKey, privateKey };
}

function pkcs1(key: KeyObject): string {
  return key.export({ type: 'pkcs1', format: 'pem' }).toString();
}

function setValidity(cert: forge.pki.Certificate, hours: number): void {
  // Backdate a little so a peer whose clock runs behind still accepts a fresh certificate.
  cert.validity.notBefore = new Date(Date.now() - 5 * 60 * 1000);
  cert.validity.notAfter = new Date(Date.now() + hours * 3600 * 1000);
}

function serial(): string {
  // Positive 128-bit serial: a leading byte below 0x80 keeps the DER integer positive.
  return `0${forge.util.bytesToHex(forge.random.getBytesSync(16)).slice(1)}`;
}
