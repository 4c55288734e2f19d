import { randomBytes } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RedirectCheckOptions {
  /** The proxy's outbound port, where the redirect sends every connection the Pod opens. */
  port: number;
  /** host:port (or [v6]:port) the redirect sends there: nothing listens at it for real. */
  target: string;
  timeoutMs: number;
  /** One connection's time to land (default 1 s). */
  attemptMs?: number;
  log: (line: string) => void;
}

/**
 * The node mode's validation container: proves, with a real connection through the Pod's network namespace,
 * that the node agent installed the redirect. It listens on the proxy's outbound port (the proxy is not
 * running yet: this is the first init container) and connects to an address the rules redirect; only with
 * the rules in place does the connection arrive at its own listener, carrying a nonce it just made up. It
 * runs as a UID and GID that are not the proxy's, whose connections the rules let through. Retried until the
 * deadline; then it fails, so the kubelet runs it again and no application container starts unredirected.
 */
export async function checkRedirect(o: RedirectCheckOptions): Promise<boolean> {
  const target = parseTarget(o.target);
  if (!Number.isInteger(o.port) || o.port < 1 || o.port > 65535) throw new Error(`--port must be a port, got ${o.port}`);
  const received = new Set<string>();
  const server = await listen(o.port, (nonce) => received.add(nonce));
  const deadline = Date.now() + o.timeoutMs;
  let attempts = 0;
  try {
    for (;;) {
      attempts++;
      const nonce = randomBytes(16).toString('hex');
      const outcome = await attempt(target, nonce, o.attemptMs ?? 1000, () => received.has(nonce));
      if (outcome === 'redirected') {
        o.log(`portcullis: traffic redirect in place (a connection to ${o.target} reached port ${o.port}; attempt ${attempts})`);
        return true;
      }
      if (Date.now() >= deadline) {
        o.log(`portcullis: no traffic redirect after ${Math.round(o.timeoutMs / 1000)} s (${attempts} attempts; last: ${outcome}): the node agent has not installed it in this Pod's network namespace`);
        return false;
      }
      await sleep(Math.min(1000, Math.max(0, deadline - Date.now())));
    }
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function parseTarget(target: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(target);
  const port = Number(m?.[3]);
  if (!m || port < 1 || port > 65535) throw new Error(`--target must be address:port ([address]:port for IPv6), got ${JSON.stringify(target)}`);
  return { host: (m[1] ?? m[2]) as string, port };
}

/** Both families where the kernel has IPv6, else IPv4 alone. */
async function listen(port: number, onNonce: (nonce: string) => void): Promise<Server> {
  const make = () =>
    createServer((s) => {
      let data = '';
      s.setTimeout(2000, () => s.destroy());
      s.on('error', () => s.destroy());
      s.on('data', (chunk: Buffer) => {
        data += chunk.toString('latin1');
        if (data.length >= 32) {
          onNonce(data.slice(0, 32));
          s.end();
        }
      });
    });
  for (const host of ['::', '0.0.0.0']) {
    const server = make();
    const ok = await new Promise<boolean>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EAFNOSUPPORT' || err.code === 'EADDRNOTAVAIL' ? resolve(false) : reject(err)));
      server.listen({ port, host, ipv6Only: false }, () => resolve(true));
    }).catch((err: NodeJS.ErrnoException) => {
      throw new Error(`cannot listen on port ${port} (${err.code ?? err.message}): is something else using the proxy's outbound port?`);
    });
    if (ok) return server;
  }
  throw new Error(`cannot listen on port ${port}`);
}

type Outcome = 'redirected' | string;

/** One connection: 'redirected' when our own listener got its nonce, else what happened instead. */
function attempt(target: { host: string; port: number }, nonce: string, ms: number, arrived: () => boolean): Promise<Outcome> {
  return new Promise((resolve) => {
    let socket: Socket | undefined;
    let done = false;
    const finish = (outcome: Outcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearInterval(poll);
      socket?.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish(arrived() ? 'redirected' : `no answer from ${target.host}:${target.port} in ${ms} ms`), ms);
    const poll = setInterval(() => arrived() && finish('redirected'), 10);
    socket = connect({ host: target.host, port: target.port });
    socket.on('connect', () => socket?.write(nonce));
    socket.on('error', (err: NodeJS.ErrnoException) => finish(arrived() ? 'redirected' : `${err.code ?? err.message} connecting to ${target.host}:${target.port}`));
    socket.on('close', () => setTimeout(() => finish(arrived() ? 'redirected' : 'the connection closed without reaching this check'), 50));
  });
}
