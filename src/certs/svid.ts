import { generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import forge from 'node-forge';
import type { KeyPair } from './authority.js';
import { certInfo } from './pem.js';
import { signCertificate } from './sign.js';

const generate = promisify(generateKeyPair);

/**
 * An X.509-SVID (the SPIFFE X.509 profile): exactly one URI SAN, the SPIFFE ID; not a CA; digital signature
 * and key encipherment; usable by the workload as client and as server. The key is made on libuv's thread
 * pool, so issuing never blocks the event loop; forge only builds the certificate.
 */
export async function issueSvid(signer: KeyPair, spiffeId: string, validityMs: number, now = new Date()): Promise<KeyPair & { notAfter: Date; serial: string }> {
  if (!/^spiffe:\/\/[a-z0-9._-]+\/\S+$/.test(spiffeId)) throw new Error(`not a SPIFFE ID: ${JSON.stringify(spiffeId)}`);
  const { publicKey, privateKey } = await generate('rsa', { modulusLength: 2048, publicExponent: 0x10001 });
  const caCert = forge.pki.certificateFromPem(signer.cert);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = `0${forge.util.bytesToHex(forge.random.getBytesSync(16)).slice(1)}`;
  // Backdated a little for peers whose clock runs behind; never beyond the CA, whose expiry would cut it short.
  cert.validity.notBefore = new Date(now.getTime() - 5 * 60 * 1000);
  cert.validity.notAfter = new Date(Math.min(now.getTime() + validityMs, certInfo(signer.cert).notAfter.getTime()));
  cert.setSubject([{ name: 'organizationName', value: 'Portcullis' }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    { name: 'subjectAltName', critical: true, altNames: [{ type: 6, value: spiffeId }] },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  signCertificate(cert, signer.key);
  const pem = forge.pki.certificateToPem(cert);
  return { cert: pem, key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), notAfter: cert.validity.notAfter, serial: certInfo(pem).serial };
}
