import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { Injector } from '../admission/injection/injector.js';
import { AuditLog } from '../audit/log.js';
import { kubeConfig } from '../kube/client.js';
import { NodeAgent } from '../node/agent.js';
import { createSinks } from './audit-sinks.js';
import { loadConfig } from './config.js';
import { createLogger, stdoutDestination } from './logger.js';
import { VERSION } from './version.js';

export const NODE_AGENT_USAGE = `portcullis node-agent [--config FILE] [--node-name NAME] [--proc DIR] [--port N] [--sweep-seconds S]
  installs the traffic redirect of the node's Pods injected with admission.injection.redirect: node
  --node-name  this node (default: NODE_NAME, from the Downward API)
  --proc       the host's /proc (default /proc: run with hostPID)
  --port       plain HTTP for /metrics and /healthz (default 15014; 0: none)
  --sweep-seconds  how often the node's Pods are looked for again (default 1)
  --sbin       where iptables' programs are (default /usr/sbin); --nsenter (default /usr/bin/nsenter)
  --iptables-mount-namespace PATH  run iptables from this mount namespace (the node's: /proc/1/ns/mnt with
               hostPID), not from the agent's own file system`;

export interface RunningNodeAgent {
  agent: NodeAgent;
  port: number | undefined;
  stop(): Promise<void>;
}

/** Starts the node agent with the service's configuration file (its admission.injection, kubernetes, audit, cluster). */
export async function startNodeAgent(args: string[]): Promise<RunningNodeAgent> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string' },
      'node-name': { type: 'string' },
      proc: { type: 'string', default: '/proc' },
      port: { type: 'string', default: '15014' },
      'sweep-seconds': { type: 'string', default: '1' },
      sbin: { type: 'string', default: '/usr/sbin' },
      nsenter: { type: 'string', default: '/usr/bin/nsenter' },
      'iptables-mount-namespace': { type: 'string' },
    },
  });
  const config = await loadConfig(values.config ?? process.env.PORTCULLIS_CONFIG);
  const nodeName = values['node-name'] ?? process.env.NODE_NAME;
  if (!nodeName) throw new Error('node-agent: no node name (--node-name, or NODE_NAME from the Downward API spec.nodeName)');
  const injection = config.admission.injection;
  if (injection.redirect !== 'node' || !injection.enabled || injection.provider !== 'portcullis') {
    throw new Error('node-agent: admission.injection.redirect is not node (with injection enabled and provider portcullis): no Pod would get a redirect from the node');
  }
  const sweepMs = Number(values['sweep-seconds']) * 1000;
  const port = Number(values.port);
  if (!(sweepMs >= 100)) throw new Error('node-agent: --sweep-seconds must be at least 0.1');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('node-agent: --port must be a port');

  const stdout = stdoutDestination();
  const log = createLogger(config.log.level, stdout).child({ component: 'node-agent', node: nodeName });
  const audit = new AuditLog({
    sinks: createSinks(config.audit, stdout, log),
    mask: config.audit.mask,
    labels: { id: process.env.POD_NAME ?? hostname(), app: 'portcullis', version: VERSION },
    recent: 1,
    includeInput: false,
  });
  const injector = new Injector(injection, config.cluster, log);
  await injector.start();
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const informers = config.kubernetes.informers;
  const agent = new NodeAgent({
    nodeName,
    kc: kubeConfig(config.kubernetes),
    procRoot: values.proc,
    tools: { nsenter: values.nsenter, sbin: values.sbin, timeoutMs: 10_000, ...(values['iptables-mount-namespace'] ? { mountNamespace: values['iptables-mount-namespace'] } : {}) },
    confirm: (pod) => injector.nodeRedirect(pod),
    sweepMs,
    resyncMs: informers.resyncSeconds * 1000,
    watchTimeoutSeconds: informers.watchTimeoutSeconds,
    retryMs: informers.retrySeconds * 1000,
    registry,
    audit: (node, error) =>
      audit.record({ path: 'node/redirect', kind: 'node', decision: node.result === 'installed' ? 'allow' : node.result === 'refused' ? 'deny' : 'error', ...(error ? { error } : {}), bundles: {}, metrics: {}, node }),
    log,
  });
  agent.start();

  let server: Server | undefined;
  if (port !== 0) {
    server = createServer((req, res) => {
      if (req.method === 'GET' && req.url === '/metrics') {
        void registry.metrics().then((text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text));
      } else if (req.method === 'GET' && req.url === '/healthz') {
        const synced = agent.synced();
        res.writeHead(synced ? 200 : 503, { 'content-type': 'text/plain' }).end(synced ? 'ok\n' : 'the node\'s Pods are not listed yet\n');
      } else res.writeHead(404).end();
    });
    await new Promise<void>((resolve, reject) => {
      server?.once('error', reject);
      server?.listen(port, '0.0.0.0', () => resolve());
    });
  }
  const address = server?.address();
  log.info({ port: typeof address === 'object' && address ? address.port : undefined, proc: values.proc }, 'node agent started');
  return {
    agent,
    port: typeof address === 'object' && address ? address.port : undefined,
    stop: async () => {
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      await agent.stop();
      injector.stop();
      await audit.close();
      stdout.flushSync();
    },
  };
}
