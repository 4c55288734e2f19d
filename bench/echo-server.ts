// The floor of bench:admission, in its own process so the service's heap and timers do not touch it: an
// HTTPS fastify server that parses the AdmissionReview and answers its uid, no policy. Prints its port.
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';

const [certFile, keyFile] = process.argv.slice(2) as [string, string];
const echo = Fastify({ https: { cert: readFileSync(certFile), key: readFileSync(keyFile) }, logger: false, bodyLimit: 8 * 1024 * 1024 });
echo.post('/echo', async (req) => ({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: (req.body as { request: { uid: string } }).request.uid, allowed: true } }));
await echo.listen({ host: '127.0.0.1', port: 0 });
console.log((echo.server.address() as { port: number }).port);
