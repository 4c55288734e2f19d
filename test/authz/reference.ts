// The real opa-envoy-plugin, built from its source by scripts/tools.sh (OPA_ENVOY_PLUGIN_SRC, or a
// reference/opa-envoy-plugin checkout beside this repository), run as its README runs it.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../helpers/paths.js';

const run = promisify(execFile);
export const OPA_ENVOY_PLUGIN = join(ROOT, '.tools', 'bin', 'opa-envoy-plugin');

/** Builds (or links the cached) reference; rejects with tools.sh's one line when its source is missing. */
export async function buildReference(): Promise<string> {
  try {
    await run('bash', [join(ROOT, 'scripts', 'tools.sh'), 'opa-envoy-plugin'], { timeout: 15 * 60 * 1000 });
  } catch (err) {
    const stderr = String((err as { stderr?: string }).stderr ?? '');
    const line = stderr.split('\n').find((l) => l.includes('OPA_ENVOY_PLUGIN_SRC')) ?? stderr.trim().split('\n').pop() ?? (err as Error).message;
    throw new Error(line);
  }
  return OPA_ENVOY_PLUGIN;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Reference {
  port: number;
  /** OPA's HTTP server, where --pprof serves /debug/pprof (asked for with `pprof`). */
  httpUrl?: string;
  process: ChildProcess;
  /** Decision log lines written to stdout (decision_logs.console), when asked for. */
  output(): string;
  close(): Promise<void>;
}

/**
 * Runs `opa-envoy-plugin run --server` with the ext_authz gRPC plugin on a free loopback port, answering
 * with `path`, on the given policy files; resolves once it listens. `logFile`: its log and, with
 * decisionLogs, one decision log event per Check (decision_logs.console, as a deployment would collect
 * them) go to that file instead of a pipe. `pprof`: Go's profiler on OPA's HTTP server (bench:authz:profile).
 */
export async function startReference(policies: string[], path: string, options: { decisionLogs?: boolean; logFile?: string; pprof?: boolean } = {}): Promise<Reference> {
  const binary = await buildReference();
  const grpcPort = await freePort();
  const httpPort = options.pprof ? await freePort() : 0;
  const args = [
    'run',
    '--server',
    `--addr=127.0.0.1:${httpPort}`,
    ...(options.pprof ? ['--pprof'] : []),
    '--diagnostic-addr=127.0.0.1:0',
    `--set=plugins.envoy_ext_authz_grpc.addr=127.0.0.1:${grpcPort}`,
    `--set=plugins.envoy_ext_authz_grpc.path=${path}`,
    `--set=decision_logs.console=${options.decisionLogs ? 'true' : 'false'}`,
    '--log-level=info',
    ...policies,
  ];
  const fd = options.logFile ? openSync(options.logFile, 'a') : undefined;
  const child = spawn(binary, args, { stdio: ['ignore', fd ?? 'pipe', fd ?? 'pipe'] });
  if (fd !== undefined) closeSync(fd);
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const logged = () => (options.logFile ? readFileSync(options.logFile, 'utf8') : err + out);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`opa-envoy-plugin did not start: ${logged().slice(-2000)}`)), 30000);
    const poll = setInterval(() => {
      if (logged().includes('Starting gRPC server.')) {
        clearInterval(poll);
        clearTimeout(timer);
        // Serving starts right after the log line.
        setTimeout(resolve, 100);
      }
    }, 50);
    child.once('exit', (code) => {
      clearInterval(poll);
      clearTimeout(timer);
      reject(new Error(`opa-envoy-plugin exited with ${code}: ${logged().slice(-2000)}`));
    });
  });
  return {
    port: grpcPort,
    ...(options.pprof ? { httpUrl: `http://127.0.0.1:${httpPort}` } : {}),
    process: child,
    output: () => out,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
