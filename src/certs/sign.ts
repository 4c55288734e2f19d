import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import forge from 'node-forge';

/**
 * Signs a certificate forge has built with OpenSSL (node:crypto), sha256WithRSAEncryption. forge's own RSA
 * signature is JavaScript big-integer arithmetic: 0.2–0.4 s of a blocked event loop per certificate on the
 * development VM, paid by every CA rotation, serving certificate, SVID and `portcullis eval`. forge still
 * builds the TBSCertificate and writes the signature where its encoder reads it (x509.js cert.sign hands
 * the key a digest it has fed the DER of the TBSCertificate; the one here keeps that DER instead).
 */
export function signCertificate(cert: forge.pki.Certificate, key: KeyObject | string): void {
  const privateKey = typeof key === 'string' ? createPrivateKey(key) : key;
  let tbs = '';
  const digest = {
    algorithm: 'sha256',
    update(bytes: string) {
      tbs += bytes;
      return digest;
    },
  };
  const signer = { sign: () => sign('sha256', Buffer.from(tbs, 'binary'), privateKey).toString('binary') };
  cert.sign(signer as unknown as forge.pki.rsa.PrivateKey, digest as unknown as forge.md.MessageDigest);
}
