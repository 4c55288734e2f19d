import t from 'tap';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { startHarness } from '../admission/service.js';

// What any client can send to each HTTP listener that is not a proper request: never a 5xx, never a crash,
// and every refusal names what was wrong.
const h = await startHarness({ config: { authz: { enabled: true, http: { host: '127.0.0.1', port: 0 }, grpc: { host: '127.0.0.1', port: 0 } } } });
t.teardown(() => h.close());
await h.ready();
const port = (name: string) => h.service.listeners.find((l) => l.name === name)?.port as number;

interface Answer {
  status: number;
  head: string;
  body: string;
}

/** Sends `raw` bytes as they are (TLS to the admission door) and reads the whole answer; the request asks to close. */
function send(door: 'admission' | 'authz-http' | 'admin', raw: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const p = door === 'admin' ? h.adminPort : port(door);
    const socket: Socket =
      door === 'admission' ? tlsConnect({ host: '127.0.0.1', port: p, ca: h.ca, servername: 'localhost' }, () => socket.write(raw)) : netConnect({ host: '127.0.0.1', port: p }, () => socket.write(raw));
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [head = '', body = ''] = text.split('\r\n\r\n', 2);
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), head, body });
    });
  });
}

const auth = `Authorization: Bearer ${h.token}\r\n`;
const request = (line: string, headers = '', body = '') => `${line}\r\nHost: x\r\nConnection: close\r\n${headers}${body ? `Content-Length: ${Buffer.byteLength(body)}\r\n` : ''}\r\n${body}`;

t.test('admission: no body and no content type, empty JSON, wrong media type, wrong method: 4xx that say why', async (t) => {
  const empty = await send('admission', request('POST /validate HTTP/1.1'));
  t.equal(empty.status, 400, 'no body, no content type');
  t.match(JSON.parse(empty.body), { error: 'bad request', message: /the body is empty: send an AdmissionReview as application\/json/ });
  const declaredEmpty = await send('admission', request('POST /mutate HTTP/1.1', 'Content-Type: application/json\r\nContent-Length: 0\r\n'));
  t.equal(declaredEmpty.status, 400, 'application/json with no bytes');
  t.match(JSON.parse(declaredEmpty.body).message, /JSON|empty/);
  const nul = await send('admission', request('POST /validate HTTP/1.1', 'Content-Type: application/json\r\n', 'null'));
  t.equal(nul.status, 400, 'null');
  t.match(JSON.parse(nul.body).message, /must be a JSON object/);
  const form = await send('admission', request('POST /validate HTTP/1.1', 'Content-Type: application/x-www-form-urlencoded\r\n', 'a=b'));
  t.equal(form.status, 415, 'a form');
  t.match(JSON.parse(form.body).message, /content-type "application\/x-www-form-urlencoded" is not supported/);
  const get = await send('admission', request('GET /validate HTTP/1.1'));
  t.equal(get.status, 404, 'GET /validate');
  const bad = await send('admission', 'POST /validate HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n');
  t.equal(bad.status, 400, 'a content-length that is not a number');
  const surrogate = `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u1","kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},"namespace":"default","operation":"CREATE","userInfo":{"username":"u"},"object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p\\ud800"},"spec":{"containers":[{"name":"a","image":"nginx"}]}}}}`;
  const lone = await send('admission', request('POST /validate HTTP/1.1', 'Content-Type: application/json\r\n', surrogate));
  t.equal(lone.status, 200, 'a lone surrogate is answered in kind');
  const response = JSON.parse(lone.body).response;
  t.match(response, { uid: 'u1', allowed: false, status: { code: 400, message: /^request\.object\.metadata\.name is a string that is not valid Unicode: it holds a lone UTF-16 surrogate \(\\ud800\)/ } });
  t.notMatch(lone.body, /undefined/);
});

t.test('1,000 header fields: 431 on every door, with what was wrong', async (t) => {
  const many = Array.from({ length: 1000 }, (_, i) => `x-${i}: v\r\n`).join('');
  const paths = { admission: 'POST /validate', 'authz-http': 'GET /anything', admin: 'POST /api/v1/mesh/validate' } as const;
  for (const door of ['admission', 'authz-http', 'admin'] as const) {
    const a = await send(door, request(`${paths[door]} HTTP/1.1`, many + (door === 'admin' ? auth : '') + 'Content-Type: application/json\r\n', '{}'));
    t.equal(a.status, 431, door);
    t.match(a.body, /more than (100|200) header fields/, `${door}: says why`);
  }
});

t.test('ext_authz HTTP: bodies too large or not what they claim are refused, denied (fail closed), and say why', async (t) => {
  const big = await send('authz-http', request('POST /x HTTP/1.1', `Content-Length: ${64 * 1024 * 1024}\r\n`));
  t.equal(big.status, 413);
  t.match(big.body, /request too large: .*larger than \d+ bytes/);
  const badLength = await send('authz-http', 'POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n');
  t.equal(badLength.status, 400, 'a negative content-length');
  const both = await send('authz-http', 'POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
  t.equal(both.status, 400, 'content-length and chunked at once (request smuggling)');
  const garbage = await send('authz-http', 'HELLO\r\n\r\n');
  t.equal(garbage.status, 400, 'not HTTP');
});

t.test('admin: malformed calls to its API are 4xx that say why, never 500', async (t) => {
  const noBody = await send('admin', request('POST /api/v1/mesh/validate HTTP/1.1', auth));
  t.ok(noBody.status >= 400 && noBody.status < 500, `no body: ${noBody.status}`);
  t.ok(JSON.parse(noBody.body).message, 'says why');
  const notJson = await send('admin', request('POST /api/v1/mesh/validate HTTP/1.1', `${auth}Content-Type: application/json\r\n`, '{"a":'));
  t.equal(notJson.status, 400);
  t.match(JSON.parse(notJson.body).message, /not valid JSON/);
  const text = await send('admin', request('POST /api/v1/mesh/validate HTTP/1.1', `${auth}Content-Type: text/plain\r\n`, 'hi'));
  t.equal(text.status, 415);
  t.match(JSON.parse(text.body).message, /text\/plain/);
  const huge = await send('admin', request('POST /api/v1/mesh/validate HTTP/1.1', `${auth}Content-Type: application/json\r\nContent-Length: ${64 * 1024 * 1024}\r\n`));
  t.equal(huge.status, 413);
  const noToken = await send('admin', request('POST /api/v1/mesh/validate HTTP/1.1', 'Content-Type: application/json\r\n', '{}'));
  t.equal(noToken.status, 401);
});

t.test('everything is still served after all of it', async (t) => {
  t.equal((await h.get('/healthz')).status, 200);
  t.equal((await send('admin', request('GET /healthz HTTP/1.1'))).status, 200);
});
