import { createPrivateKey, X509Certificate } from 'node:crypto';
import t from 'tap';
import { createCa, issueServing } from '../../src/certs/authority.js';
import { issueSvid } from '../../src/certs/svid.js';

// forge builds the certificates and node:crypto signs them (src/certs/sign.ts): OpenSSL must accept the
// signature, each certificate must name its issuer's key, and the private key returned must be the one certified.

const ca = createCa('authority test CA', 1);
const caCert = new X509Certificate(ca.cert);

t.test('the CA is self-signed with the key it returns', async (t) => {
  t.ok(caCert.ca, 'basicConstraints cA');
  t.ok(caCert.verify(caCert.publicKey), 'OpenSSL verifies the self-signature');
  t.ok(caCert.checkPrivateKey(createPrivateKey(ca.key)), 'the key returned is the certified one');
  t.match(ca.key, /^-----BEGIN RSA PRIVATE KEY-----/, 'PKCS#1, as before');
  t.equal(caCert.subject, 'CN=authority test CA\nO=Portcullis');
});

t.test('a serving certificate is signed by the CA and no other key', async (t) => {
  const leaf = issueServing(ca, { dnsNames: ['portcullis.portcullis-system.svc', 'localhost'], ipAddresses: ['127.0.0.1'], validityHours: 1 });
  const cert = new X509Certificate(leaf.cert);
  t.ok(cert.checkIssued(caCert));
  t.ok(cert.verify(caCert.publicKey), 'the CA signed it');
  t.notOk(cert.verify(cert.publicKey), 'its own key did not');
  t.notOk(cert.verify(new X509Certificate(createCa('another CA', 1).cert).publicKey), 'another CA did not');
  t.ok(cert.checkPrivateKey(createPrivateKey(leaf.key)));
  t.equal(cert.subjectAltName, 'DNS:portcullis.portcullis-system.svc, DNS:localhost, IP Address:127.0.0.1');
});

t.test('an SVID is signed by the CA', async (t) => {
  const svid = await issueSvid(ca, 'spiffe://cluster.local/ns/shop/sa/web', 3_600_000);
  const cert = new X509Certificate(svid.cert);
  t.ok(cert.verify(caCert.publicKey));
  t.ok(cert.checkPrivateKey(createPrivateKey(svid.key)));
  t.equal(cert.subjectAltName, 'URI:spiffe://cluster.local/ns/shop/sa/web');
});
