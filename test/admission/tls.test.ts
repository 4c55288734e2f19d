import t from 'tap';
import { connect, type TLSSocket } from 'node:tls';
import { request, Agent } from 'node:https';
import { createCa, issueServing } from '../../src/certs/authority.js';
import { certInfo } from '../../src/certs/pem.js';
import { startHarness } from './service.js';

const h = await startHarness();
t.teardown(() => h.close());

const handshake = (options: { ca: string; minVersion?: 'TLSv1' | 'TLSv1.2'; maxVersion?: 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3' }) =>
  new Promise<{ ok: true; protocol: string | null; serial: string } | { ok: false; error: string }>((resolve) => {
    const socket: TLSSocket = connect({ host: '127.0.0.1', port: h.port, servername: 'localhost', ...options });
    socket.on('secureConnect', () => {
      resolve({ ok: true, protocol: socket.getProtocol(), serial: socket.getPeerCertificate().serialNumber });
      socket.end();
    });
    socket.on('error', (err) => resolve({ ok: false, error: err.message }));
  });

t.test('TLS 1.2 at least', async (t) => {
  t.match(await handshake({ ca: h.ca }), { ok: true, protocol: 'TLSv1.3' });
  t.match(await handshake({ ca: h.ca, maxVersion: 'TLSv1.2' }), { ok: true, protocol: 'TLSv1.2' });
  t.match(await handshake({ ca: h.ca, minVersion: 'TLSv1', maxVersion: 'TLSv1.1' }), { ok: false });
});

t.test('keep-alive: the API server reuses its connection', async (t) => {
  const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: h.ca, servername: 'localhost' });
  t.teardown(() => agent.destroy());
  const ports: number[] = [];
  for (let i = 0; i < 3; i++) {
    await new Promise<void>((resolve, reject) => {
      request({ host: '127.0.0.1', port: h.port, path: '/healthz', agent }, (res) => {
        ports.push(res.socket.localPort ?? -1);
        res.resume();
        res.on('end', resolve);
      })
        .on('error', reject)
        .end();
    });
  }
  t.equal(new Set(ports).size, 1, 'one connection for three requests');
});

t.test('a rotated certificate is served without a restart', async (t) => {
  const before = await handshake({ ca: h.ca });
  const ca = createCa('rotated-ca', 24);
  const serving = issueServing(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], validityHours: 24 });
  h.service.ctx.tls.set({ cert: serving.cert, key: serving.key, ca: ca.cert, notAfter: certInfo(serving.cert).notAfter });
  const after = await handshake({ ca: ca.cert });
  t.ok(before.ok && after.ok, 'both handshakes succeed');
  t.not(before.ok && before.serial, after.ok && after.serial, 'a different certificate');
  t.match(await handshake({ ca: h.ca }), { ok: false }, 'the old CA no longer verifies it');
});
