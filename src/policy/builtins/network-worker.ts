// The thread that does the network I/O of http.send and net.lookup_ip_addr for policy/builtins/network.ts:
// a policy's builtins are synchronous calls from inside its WebAssembly, so the calling thread waits on
// shared memory while this one fetches, then reads the answer with receiveMessageOnPort.
import { lookup } from 'node:dns/promises';
import { workerData, type MessagePort } from 'node:worker_threads';
import { hostAllowed } from './allowlist.js';

export interface HttpJob {
  id: number;
  kind: 'http';
  method: string;
  url: string;
  headers: Array<[string, string]>;
  body?: Uint8Array;
  timeoutMs: number;
  redirects: boolean;
  allowedHosts: string[];
  maxResponseBytes: number;
}

export interface DnsJob {
  id: number;
  kind: 'dns';
  host: string;
  timeoutMs: number;
}

export type NetworkReply =
  | { id: number; status: number; statusText: string; headers: Array<[string, string]>; body: Uint8Array }
  | { id: number; addresses: string[] }
  | { id: number; error: string; network: boolean };

const { port, signal } = workerData as { port: MessagePort; signal: Int32Array };

Atomics.store(signal, 1, 1);
Atomics.notify(signal, 1);

port.on('message', (job: HttpJob | DnsJob) => {
  void (job.kind === 'http' ? http(job) : dns(job)).then((reply) => {
    port.postMessage(reply);
    Atomics.add(signal, 0, 1);
    Atomics.notify(signal, 0);
  });
});

async function http(job: HttpJob): Promise<NetworkReply> {
  try {
    let url = job.url;
    for (let hops = 0; ; hops++) {
      const res = await fetch(url, { method: job.method, headers: job.headers, body: job.body, redirect: 'manual', signal: AbortSignal.timeout(job.timeoutMs) });
      const location = res.headers.get('location');
      if (job.redirects && res.status >= 300 && res.status < 400 && location && hops < 10) {
        const next = new URL(location, url);
        // Every hop must be allowed, or a redirect would reach any host.
        if (!hostAllowed(next, job.allowedHosts)) return { id: job.id, error: `redirect to ${next.origin} is not an allowed host`, network: false };
        await res.body?.cancel();
        url = next.toString();
        continue;
      }
      const chunks: Uint8Array[] = [];
      let size = 0;
      for await (const chunk of res.body ?? []) {
        size += (chunk as Uint8Array).length;
        if (size > job.maxResponseBytes) return { id: job.id, error: `response body over ${job.maxResponseBytes} bytes`, network: false };
        chunks.push(chunk as Uint8Array);
      }
      return { id: job.id, status: res.status, statusText: res.statusText, headers: [...res.headers], body: Buffer.concat(chunks) };
    }
  } catch (err) {
    const e = err as Error & { cause?: Error };
    const timeout = e.name === 'TimeoutError';
    return { id: job.id, error: timeout ? `${job.method} ${job.url}: request timed out` : `${job.method} ${job.url}: ${e.cause?.message ?? e.message}`, network: true };
  }
}

async function dns(job: DnsJob): Promise<NetworkReply> {
  try {
    const timer = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`lookup ${job.host}: timed out`)), job.timeoutMs).unref());
    const addresses = await Promise.race([lookup(job.host, { all: true }), timer]);
    return { id: job.id, addresses: addresses.map((a) => a.address) };
  } catch (err) {
    return { id: job.id, error: (err as Error).message, network: true };
  }
}
