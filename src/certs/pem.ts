import { X509Certificate } from 'node:crypto';

/** The certificates of a PEM bundle, each as its own PEM block. */
export function splitPems(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)?.map((p) => `${p}\n`) ?? [];
}

export function joinPems(pems: string[]): string {
  return pems.map((p) => p.trim()).join('\n') + '\n';
}

/** What rotation needs to know of a certificate, read with node:crypto. */
export interface CertInfo {
  serial: string;
  notBefore: Date;
  notAfter: Date;
  /** DNS names and IP addresses of the subjectAltName. */
  names: string[];
}

export function certInfo(pem: string): CertInfo {
  const x = new X509Certificate(pem);
  return {
    serial: x.serialNumber.toLowerCase(),
    notBefore: new Date(x.validFrom),
    notAfter: new Date(x.validTo),
    names: (x.subjectAltName ?? '')
      .split(', ')
      .map((n) => /^(?:DNS|IP Address):(.+)$/.exec(n)?.[1])
      .filter((n): n is string => n !== undefined),
  };
}

/** Whether ca's key signed leaf. */
export function signedBy(leaf: string, ca: string): boolean {
  try {
    const l = new X509Certificate(leaf);
    const c = new X509Certificate(ca);
    return l.checkIssued(c) && l.verify(c.publicKey);
  } catch {
    return false;
  }
}

/** Same certificate, whatever the PEM line wrapping. */
export function sameCert(a: string, b: string): boolean {
  try {
    return new X509Certificate(a).raw.equals(new X509Certificate(b).raw);
  } catch {
    return false;
  }
}
