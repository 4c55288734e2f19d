#!/usr/bin/env node
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { Capabilities } from './policy/builtins/capabilities.js';
import { VERSION } from './server/version.js';

// Each command imports what it needs when it runs: `portcullis eval` in a CI job must not pay for loading
// the servers, the gRPC stack and the Kubernetes client.

const USAGE = `portcullis ${VERSION}: zero-trust policy point (admission webhook + Envoy ext_authz)

usage:
  portcullis serve [--config FILE]        run the service (config also from PORTCULLIS_CONFIG; none = standalone defaults)
  portcullis config check [--config FILE] validate a configuration file and print it with defaults filled in
  portcullis eval [options] PATH...       judge manifests (files, directories, -) as the webhooks would; --help for options
  portcullis certs [--dir certs] [--force] write a dev CA and serving certificate
  portcullis audit verify FILE...         verify the hash chain of audit logs (rotated files oldest first)
  portcullis capabilities                 read \`opa capabilities --current\` on stdin, print the builtins Portcullis runs
                                          (for \`opa build -t wasm --capabilities FILE\`)
  portcullis node-agent [options]          install the traffic redirect of this node's Pods from the node
                                          (admission.injection.redirect: node); --help for options
  portcullis redirect-check --port N --target ADDR:PORT [--timeout-seconds S] [--rules-sha256 HEX]
                                          check that this Pod's traffic redirect is in place (the node mode's
                                          validation init container); exits 1 when it is not within the time
  portcullis version`;

async function main(argv: string[]): Promise<number> {
  const [command, sub] = argv;
  switch (command) {
    case 'serve':
      return serve(argv.slice(1));
    case 'config':
      if (sub !== 'check') break;
      return checkConfig(argv.slice(2));
    case 'certs':
      return certs(argv.slice(1));
    case 'eval':
      return evaluate(argv.slice(1));
    case 'audit':
      if (sub !== 'verify') break;
      return verify(argv.slice(2));
    case 'capabilities':
      return capabilities();
    case 'node-agent':
      return nodeAgent(argv.slice(1));
    case 'redirect-check':
      return redirectCheck(argv.slice(1));
    case 'version':
    case '--version':
      console.log(VERSION);
      return 0;
    case undefined:
    case 'help':
    case '--help':
      console.log(USAGE);
      return 0;
  }
  console.error(`unknown command: ${argv.join(' ')}\n\n${USAGE}`);
  return 2;
}

async function capabilities(): Promise<number> {
  const { portcullisCapabilities } = await import('./policy/builtins/capabilities.js');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  let opa: Capabilities;
  try {
    opa = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Capabilities;
    if (!Array.isArray(opa.builtins)) throw new Error('no "builtins" list');
  } catch (err) {
    console.error(`capabilities: stdin is not an OPA capabilities document (opa capabilities --current): ${(err as Error).message}`);
    return 1;
  }
  console.log(JSON.stringify(portcullisCapabilities(opa), null, 2));
  return 0;
}

async function serve(args: string[]): Promise<number> {
  const [{ loadConfig }, { createLogger, stdoutDestination }, { frontDoors }, { startKubernetesMode }, { startService }] = await Promise.all([
    import('./server/config.js'),
    import('./server/logger.js'),
    import('./server/front-doors.js'),
    import('./server/kubernetes-mode.js'),
    import('./server/service.js'),
  ]);
  const { values } = parseArgs({ args, options: { config: { type: 'string' }, 'drain-seconds': { type: 'string' } } });
  const config = await loadConfig(values.config ?? process.env.PORTCULLIS_CONFIG);
  const stdout = stdoutDestination();
  const log = createLogger(config.log.level, stdout);
  // A promise nobody awaited must not take the decision point down with it (every request path handles its
  // own errors; this is the net under background work). A thrown exception still ends the process.
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection in background work'));
  const kube = config.mode === 'kubernetes' ? await startKubernetesMode(config, log) : undefined;
  const service = await startService({ config, log, stdout, frontDoors: frontDoors(config), ...kube?.serviceOptions }).catch(async (err: unknown) => {
    await kube?.stop();
    throw err;
  });
  kube?.attach(service.ctx);
  const drainMs = Number(values['drain-seconds'] ?? (config.mode === 'kubernetes' ? 5 : 0)) * 1000;
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'signal received');
      service
        .stop({ drainMs })
        .then(() => kube?.stop())
        .then(resolve, (err: Error) => {
          log.error({ err: err.message }, 'error while stopping');
          resolve();
        });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  stdout.flushSync();
  return 0;
}

async function nodeAgent(args: string[]): Promise<number> {
  const { startNodeAgent, NODE_AGENT_USAGE } = await import('./server/node-agent.js');
  if (args.includes('--help')) {
    console.log(NODE_AGENT_USAGE);
    return 0;
  }
  const running = await startNodeAgent(args);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  await running.stop();
  return 0;
}

async function redirectCheck(args: string[]): Promise<number> {
  const { checkRedirect } = await import('./node/redirect-check.js');
  const { values } = parseArgs({ args, options: { port: { type: 'string' }, target: { type: 'string' }, 'timeout-seconds': { type: 'string', default: '60' }, 'rules-sha256': { type: 'string' } } });
  if (values.port === undefined || values.target === undefined) {
    console.error('redirect-check needs --port (the proxy\'s outbound port) and --target (an address:port the redirect sends there)');
    return 2;
  }
  const timeout = Number(values['timeout-seconds']);
  if (!(timeout >= 0)) {
    console.error('redirect-check: --timeout-seconds must be a number of seconds');
    return 2;
  }
  // The rules' digest is there for the injector's claim check; said here so an operator can match it with the node agent's log.
  if (values['rules-sha256']) console.log(`portcullis: checking the traffic redirect with rules sha256:${values['rules-sha256']}`);
  const ok = await checkRedirect({ port: Number(values.port), target: values.target, timeoutMs: timeout * 1000, log: (line) => console.log(line) });
  return ok ? 0 : 1;
}

async function checkConfig(args: string[]): Promise<number> {
  const { loadConfig } = await import('./server/config.js');
  const { values } = parseArgs({ args, options: { config: { type: 'string' } } });
  const config = await loadConfig(values.config ?? process.env.PORTCULLIS_CONFIG);
  console.log(JSON.stringify(config, null, 2));
  return 0;
}

async function certs(args: string[]): Promise<number> {
  const { ensureDevCertificates } = await import('./certs/dev.js');
  const { values } = parseArgs({ args, options: { dir: { type: 'string', default: 'certs' }, force: { type: 'boolean', default: false } } });
  const dev = await ensureDevCertificates(values.dir, { force: values.force });
  console.log(`dev certificates in ${dev.dir}: ca.crt, ca.key, tls.crt, tls.key`);
  return 0;
}

async function verify(files: string[]): Promise<number> {
  if (files.length === 0) {
    console.error('audit verify needs at least one file');
    return 2;
  }
  const { verifyLines } = await import('./audit/verify.js');
  const inputs = await Promise.all(files.map(async (source) => ({ source, lines: (await readFile(source, 'utf8')).split('\n') })));
  const report = verifyLines(inputs);
  if (report.problem) {
    const p = report.problem;
    console.log(`FAIL ${p.source}:${p.line} decision_id ${p.decision_id ?? '-'}: ${p.message}`);
    return 1;
  }
  console.log(`OK ${report.events} events in ${report.chains} chain(s) verified${report.skipped ? `, ${report.skipped} non-audit lines skipped` : ''}`);
  return 0;
}

async function evaluate(args: string[]): Promise<number> {
  const [{ runEval }, { evalPolicy }] = await Promise.all([import('./posture/eval/command.js'), import('./server/eval.js')]);
  return runEval(args, evalPolicy, {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    stdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
    version: VERSION,
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: Error) => {
    console.error(err.name === 'ConfigError' ? err.message : `portcullis: ${err.message}`);
    process.exitCode = 1;
  },
);
