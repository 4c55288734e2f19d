import t from 'tap';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import * as http2 from 'node:http2';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { fixture, podReview, startHarness } from '../admission/service.js';
import { testBundle } from '../authz/bundles.js';
import { fromProtoJson } from '../authz/grpc-client.js';
import { startAuthz } from '../authz/harness.js';
import { FIXTURES } from '../helpers/paths.js';

// Slow clients (slowloris) on every HTTP listener: half-sent headers, half-sent bodies, idle connections, a TLS
// handshake never made. Each is closed within its timeout (Node checks them every second), while normal
// reviews keep being answered. (Too many header fields: test/server/malformed-requests.test.ts.)
const timeouts = { headersTimeoutMs: 1000, requestTimeoutMs: 2000, keepAliveTimeoutMs: 1000, idleTimeoutMs: 3000 };
const h = await startHarness({
  config: {
    admission: { connections: { ...timeouts, handshakeTimeoutMs: 1000, maxConnections: 40 } },
    admin: { connections: { ...timeouts, maxConnections: 40 } },
    authz: {
      enabled: true,
      http: { host: '127.0.0.1', port: 0, connections: { ...timeouts, maxConnections: 40 } },
      grpc: { enabled: false },
    },
  },
});
t.teardown(() => h.close());
const port = (name: string) => h.service.listeners.find((l) => l.name === name)?.port as number;
const base = await fixture('pod-create-deployment.json');
// Slack for a loaded machine: the checks run every second, and timers fire late under load.
const SLACK_MS = 3000;

interface Slow {
  /** Milliseconds from connecting to the server closing the connection, and what it said first. */
  closed: Promise<{ afterMs: number; said: string }>;
  socket: Socket;
}

/** Connects (over TLS to the admission door) and sends `sent`, then nothing more. */
function slow(target: 'admission' | 'authz-http' | 'admin', sent: string): Slow {
  const p = target === 'admin' ? h.adminPort : port(target);
  const start = Date.now();
  const socket: Socket =
    target === 'admission' ? tlsConnect({ host: '127.0.0.1', port: p, ca: h.ca, servername: 'localhost' }, () => socket.write(sent)) : netConnect({ host: '127.0.0.1', port: p }, () => socket.write(sent));
  let said = '';
  socket.on('data', (d: Buffer) => (said ||= d.toString('latin1').split('\r\n')[0] ?? ''));
  socket.on('error', () => undefined);
  const closed = new Promise<{ afterMs: number; said: string }>((resolve) => socket.on('close', () => resolve({ afterMs: Date.now() - start, said })));
  return { closed, socket };
}

const doors = ['admission', 'authz-http', 'admin'] as const;

t.test('half-sent headers, half-sent bodies and idle connections are closed within their timeouts, while reviews go on', async (t) => {
  const clients: Array<[string, Slow, number]> = [];
  for (const door of doors) {
    const path = door === 'admission' ? '/validate' : door === 'admin' ? '/api/v1/mesh/validate' : '/check';
    clients.push([`${door}: connected, nothing sent`, slow(door, ''), timeouts.headersTimeoutMs]);
    clients.push([`${door}: half-sent headers`, slow(door, `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n`), timeouts.headersTimeoutMs]);
    clients.push([`${door}: half-sent body`, slow(door, `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"apiVersion":`), timeouts.requestTimeoutMs]);
  }
  // One byte every 200 ms: never idle, but the request never ends.
  const trickle = slow('admission', 'POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n');
  const drip = setInterval(() => trickle.socket.writable && trickle.socket.write(' '), 200);
  clients.push(['admission: a body trickling in', trickle, timeouts.requestTimeoutMs]);
  // Answered once, then kept open and idle.
  const idle = slow('admission', `GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n`);
  clients.push(['admission: idle keep-alive', idle, timeouts.keepAliveTimeoutMs]);

  // Meanwhile: reviews over other connections.
  for (let i = 0; i < 5; i++) {
    const r = await h.post('/validate', podReview(base, 'plain'));
    t.equal(r.json?.response?.allowed, true, `review ${i} answered while the slow clients hang on`);
  }
  for (const [name, client, timeout] of clients) {
    const { afterMs, said } = await client.closed;
    t.ok(afterMs <= timeout + SLACK_MS, `${name}: closed after ${afterMs} ms (timeout ${timeout} ms)${said ? `, saying ${said}` : ''}`);
  }
  clearInterval(drip);
  t.match((await clients.find(([n]) => n === 'admission: half-sent headers')?.[1].closed)?.said ?? '', /^HTTP\/1\.1 408|^$/, 'a request timeout is a 408 where one can be sent');
});

t.test('a TLS handshake never made is cut off', async (t) => {
  const start = Date.now();
  const socket = netConnect({ host: '127.0.0.1', port: port('admission') });
  socket.on('error', () => undefined);
  await new Promise((resolve) => socket.on('close', resolve));
  t.ok(Date.now() - start <= 1000 + SLACK_MS, `closed after ${Date.now() - start} ms (handshake timeout 1000 ms)`);
});

t.test('connections past maxConnections are closed as they arrive', async (t) => {
  const held = Array.from({ length: 40 }, () => netConnect({ host: '127.0.0.1', port: h.adminPort }));
  await Promise.all(held.map((s) => new Promise((resolve) => s.on('connect', resolve))));
  await new Promise((r) => setTimeout(r, 100));
  const extra = netConnect({ host: '127.0.0.1', port: h.adminPort });
  extra.on('error', () => undefined);
  const start = Date.now();
  await new Promise((resolve) => extra.on('close', resolve));
  t.ok(Date.now() - start < timeouts.headersTimeoutMs, 'the 41st is closed at once, not at a timeout');
  for (const s of held) s.destroy();
});

// The gRPC listener: Portcullis owns its socket, so a client that never opens HTTP/2 is closed at the preface
// timeout, one past maxConnections at once, and gRPC's own idle and age limits close the rest, while Check
// calls from a real grpc-js client are answered throughout.
t.test('gRPC listener: silent, half-preface, non-HTTP/2 and idle connections and a never-ending call are closed, while Checks go on', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-slow-grpc-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const grpcLimits = { prefaceTimeoutMs: 1000, maxConnections: 12, maxConnectionIdleMs: 1500, maxConnectionAgeMs: 2000, maxConnectionAgeGraceMs: 1000 };
  const a = await startAuthz({ bundle: await testBundle(dir), authz: { entrypoint: 'envoy/authz/allow', grpc: { connections: grpcLimits } } });
  t.teardown(() => a.close());
  const check = fromProtoJson(JSON.parse(await readFile(join(FIXTURES, 'authz', 'check-jwt-mtls.json'), 'utf8')));
  const closedAfter = (socket: Socket, start: number) =>
    new Promise<number>((resolve) => {
      socket.on('error', () => undefined);
      socket.on('close', () => resolve(Date.now() - start));
    });
  const open = (sent: string | null) => {
    const start = Date.now();
    const socket = netConnect({ host: '127.0.0.1', port: a.grpcPort }, () => sent !== null && socket.write(sent));
    return closedAfter(socket, start);
  };
  const clients: Array<[string, Promise<number>, number]> = [
    ['connected, nothing sent', open(''), grpcLimits.prefaceTimeoutMs],
    ['half the HTTP/2 preface', open('PRI * HTTP/2.0\r\n'), grpcLimits.prefaceTimeoutMs],
    ['HTTP/1.1 instead of HTTP/2', open('POST /envoy.service.auth.v3.Authorization/Check HTTP/1.1\r\nHost: x\r\n\r\n'), 0],
  ];
  {
    const start = Date.now();
    const hello = tlsConnect({ host: '127.0.0.1', port: a.grpcPort, rejectUnauthorized: false });
    clients.push(['a TLS handshake to the plaintext port', closedAfter(hello, start), 0]);
  }
  {
    // HTTP/2 opened (preface and SETTINGS), then no call: gRPC's maxConnectionIdleMs sends GOAWAY.
    const start = Date.now();
    const session = http2.connect(`http://127.0.0.1:${a.grpcPort}`);
    session.on('error', () => undefined);
    clients.push(['HTTP/2 opened, no call', new Promise((resolve) => session.on('close', () => resolve(Date.now() - start))), grpcLimits.maxConnectionIdleMs]);
  }
  {
    // A call whose request message never ends: its connection is closed at maxConnectionAgeMs plus the grace.
    const start = Date.now();
    const session = http2.connect(`http://127.0.0.1:${a.grpcPort}`);
    session.on('error', () => undefined);
    const stream = session.request({ ':method': 'POST', ':path': '/envoy.service.auth.v3.Authorization/Check', 'content-type': 'application/grpc', te: 'trailers' });
    stream.on('error', () => undefined);
    stream.write(Buffer.from([0, 0, 0, 0x10, 0])); // a 4 KiB message announced, one byte of it sent
    clients.push([
      'a call whose message never ends',
      new Promise((resolve) => session.on('close', () => resolve(Date.now() - start))),
      grpcLimits.maxConnectionAgeMs + grpcLimits.maxConnectionAgeGraceMs,
    ]);
  }
  for (let i = 0; i < 5; i++) {
    const res = await a.client.check(check, { deadlineMs: 5000 });
    t.equal(res.status.code, 7, `Check ${i} answered (the policy's denial: no token here) while the slow clients hang on`);
  }
  for (const [name, closed, timeout] of clients) {
    const afterMs = await closed;
    t.ok(afterMs <= timeout + SLACK_MS, `${name}: closed after ${afterMs} ms (timeout ${timeout} ms)`);
  }
  t.equal((await a.client.check(check, { deadlineMs: 5000 })).status.code, 7, 'and after them');
});

t.test('gRPC listener: connections past maxConnections are closed as they arrive', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-slow-grpc-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const a = await startAuthz({ bundle: await testBundle(dir), authz: { entrypoint: 'envoy/authz/allow', grpc: { connections: { prefaceTimeoutMs: 5000, maxConnections: 10 } } } });
  t.teardown(() => a.close());
  // Ten silent connections fill the bound (with or without the harness client's); the rest are refused at once.
  const start = Date.now();
  const sockets = Array.from({ length: 14 }, () => netConnect({ host: '127.0.0.1', port: a.grpcPort }));
  const closed: number[] = [];
  for (const s of sockets) {
    s.on('error', () => undefined);
    s.on('close', () => closed.push(Date.now() - start));
  }
  await new Promise((r) => setTimeout(r, 1500));
  t.ok(closed.length >= 4, `${closed.length} of 14 closed within 1.5 s, long before the 5 s preface timeout (at ${closed.join(', ')} ms)`);
  t.ok(closed.length <= 5, 'the connections within the bound stay open');
  for (const s of sockets) s.destroy();
  await new Promise((r) => setTimeout(r, 100));
  const check = fromProtoJson(JSON.parse(await readFile(join(FIXTURES, 'authz', 'check-jwt-mtls.json'), 'utf8')));
  t.equal((await a.client.check(check, { deadlineMs: 5000 })).status.code, 7, 'a Check is answered once they are gone');
});
