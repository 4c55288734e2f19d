import t from 'tap';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { fixture, podReview, startHarness } from '../admission/service.js';

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
