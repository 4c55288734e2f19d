// Portcullis replicas in Kubernetes mode, in this process, on loopback ports, against the test control
// plane: what `portcullis serve` does with mode: kubernetes, minus the signal handling.
import pino from 'pino';
import { parseConfig } from '../../src/server/config.js';
import { frontDoors } from '../../src/server/front-doors.js';
import { startKubernetesMode, type KubernetesMode } from '../../src/server/kubernetes-mode.js';
import { startService, type Service } from '../../src/server/service.js';

export interface Replica {
  identity: string;
  service: Service;
  kube: KubernetesMode;
  admissionPort: number;
  adminPort: number;
  status(): Record<string, unknown>;
  stop(drainMs?: number): Promise<void>;
}

/** `onService` runs before the replica joins the cluster's work (leader election, the posture audit), so what it hooks sees all of it. */
export async function startReplica(identity: string, kubeconfig: string, namespace: string, config: Record<string, unknown>, onService?: (service: Service) => void): Promise<Replica> {
  const parsed = parseConfig({
    mode: 'kubernetes',
    log: { level: 'silent' },
    admin: { host: '127.0.0.1', port: 0 },
    admission: { host: '127.0.0.1', port: 0 },
    authz: { enabled: false },
    audit: { sinks: [] },
    // Off unless a test asks: replicas of several test files share the plane, and each set has a leader.
    posture: { enabled: false },
    ...config,
    kubernetes: { kubeconfig, namespace, identity, ...((config.kubernetes as object | undefined) ?? {}) },
  });
  const log = pino({ level: process.env.PORTCULLIS_TEST_LOG ?? 'silent' });
  const kube = await startKubernetesMode(parsed, log);
  const service = await startService({ config: parsed, log, stdout: pino.destination({ dest: '/dev/null', sync: true }), frontDoors: frontDoors(parsed), ...kube.serviceOptions });
  onService?.(service);
  kube.attach(service.ctx);
  const admission = service.listeners.find((l) => l.name === 'admission');
  if (!admission) throw new Error('no admission door');
  // A decision worker up (they start in the background; under tsx on a busy machine, in seconds).
  for (const deadline = Date.now() + 120_000; !(admission.ready?.() ?? true); ) {
    if (Date.now() > deadline) throw new Error('no decision worker started in 120 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  let stopped: Promise<void> | undefined;
  return {
    identity,
    service,
    kube,
    admissionPort: admission.port,
    adminPort: service.admin.port,
    status: () => (kube.serviceOptions.kubernetes?.() ?? {}) as Record<string, unknown>,
    stop: (drainMs = 0) => (stopped ??= service.stop({ drainMs }).then(() => kube.stop())),
  };
}
