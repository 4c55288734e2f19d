// What the Kubernetes tests share: the run's control plane, a namespace of their own, a logger that
// keeps its lines for assertions, and polling.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Test } from 'tap';
import { loadKubeConfig, sharedControlPlane, type ControlPlaneInfo } from '../helpers/controlplane.js';

export interface Cluster {
  plane: ControlPlaneInfo;
  kc: KubeConfig;
  core: CoreV1Api;
}

export async function cluster(): Promise<Cluster> {
  const plane = await sharedControlPlane();
  const kc = loadKubeConfig(plane);
  return { plane, kc, core: kc.makeApiClient(CoreV1Api) };
}

export const suffix = (): string => randomBytes(3).toString('hex');

/** A namespace for this test; deleted (marked, there is no namespace controller) at teardown. */
export async function testNamespace(t: Test, c: Cluster, prefix: string, labels: Record<string, string> = {}): Promise<string> {
  const name = `${prefix}-${suffix()}`;
  await c.core.createNamespace({ body: { metadata: { name, labels } } });
  t.teardown(() => c.core.deleteNamespace({ name }).then(() => undefined, () => undefined));
  return name;
}

export interface Lines {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  lines: Array<{ level: string; msg: string } & Record<string, unknown>>;
}

export function memoryLog(): Lines {
  const lines: Lines['lines'] = [];
  return {
    lines,
    debug: (obj, msg) => void lines.push({ level: 'debug', msg, ...obj }),
    info: (obj, msg) => void lines.push({ level: 'info', msg, ...obj }),
    warn: (obj, msg) => void lines.push({ level: 'warn', msg, ...obj }),
  };
}

/** Polls until check returns something truthy; fails with what was last seen. */
export async function until<T>(what: string, check: () => T | Promise<T>, timeoutMs = 20_000, everyMs = 100): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await sleep(everyMs);
  }
}
