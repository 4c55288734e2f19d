// A TCP forwarder between a client and the API server, to take the API server "away" from one client
// (refuse new connections, reset open ones, watches included) and bring it back, without disturbing
// the control plane the other test files share.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

export interface ApiProxy {
  /** A kubeconfig like the given one, whose server is this proxy. */
  kc: KubeConfig;
  /** Refuses new connections and resets the open ones. */
  down(): Promise<void>;
  /** Accepts again, on the same port. */
  up(): Promise<void>;
  /** Resets the open connections (a dropped watch) but keeps accepting. */
  cut(): void;
  close(): Promise<void>;
}

export async function apiProxy(kc: KubeConfig): Promise<ApiProxy> {
  const target = new URL(kc.getCurrentCluster()?.server ?? '');
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((client) => {
        const upstream = connect(Number(target.port), target.hostname);
        for (const sock of [client, upstream]) {
          sockets.add(sock);
          sock.on('close', () => sockets.delete(sock));
          sock.on('error', () => sock.destroy());
        }
        client.pipe(upstream).pipe(client);
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        port = (s.address() as { port: number }).port;
        server = s;
        resolve();
      });
    });
  const cut = () => {
    for (const s of sockets) s.resetAndDestroy();
  };
  const down = async () => {
    const s = server;
    server = undefined;
    if (!s) return;
    const closed = new Promise<void>((r) => s.close(() => r()));
    cut();
    await closed;
  };
  await listen();

  const copy = new KubeConfig();
  copy.loadFromString(kc.exportConfig());
  const cluster = copy.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig without a current cluster');
  copy.clusters = copy.clusters.map((c) => (c.name === cluster.name ? { ...c, server: `https://127.0.0.1:${port}` } : c));
  return { kc: copy, down, up: () => (server ? Promise.resolve() : listen()), cut, close: down };
}
