// A decision worker thread (src/admission/workers.ts): runs decide() on the bodies the main thread hands
// over, with copies of what it needs from there, each sent again only when it changed.
import { parentPort, workerData } from 'node:worker_threads';
import { Masker } from '../audit/mask.js';
import type { NamespaceInfo } from '../facts/facts.js';
import { Snapshot, snapshotFrom } from '../policy/engine.js';
import { decide, type DecideDeps } from './decide.js';
import { Injector } from './injection/injector.js';
import { compileDeclaredSchemas } from '../schema/validator.js';
import { writeSummary } from './summary-slot.js';
import type { ToWorker, WorkerSetup } from './workers.js';

const setup = workerData as WorkerSetup;
if (!parentPort) throw new Error('src/admission/worker.ts runs as a worker thread');
const port = parentPort;
compileDeclaredSchemas();

const log = (level: 'info' | 'error') => (obj: object, msg: string) => port.postMessage({ type: 'log', level, obj, msg });
const injector = new Injector(setup.injection, setup.cluster, { info: log('info'), error: log('error') });
let namespaces = new Map<string, NamespaceInfo>((setup.namespaces ?? []).map((n) => [n.name, n]));
/** The decision being made, for the summary it publishes. */
let current = 0;
const deps: DecideDeps = {
  snapshot: new Snapshot(new Map(), {}),
  injector,
  namespace: (name) => namespaces.get(name) ?? (setup.lookups ? undefined : null),
  cluster: setup.cluster,
  entrypoints: setup.entrypoints,
  dropManagedFields: setup.dropManagedFields,
  maxJsonDepth: setup.maxJsonDepth,
  limits: setup.limits,
  masker: setup.mask ? new Masker(setup.mask) : undefined,
  ...(setup.slot ? { parsed: (summary) => writeSummary(setup.slot as SharedArrayBuffer, current, summary) } : {}),
};
/** Set while a new snapshot is being instantiated: decisions sent after it wait for it. */
let building: Promise<void> | undefined;

function handle(message: ToWorker): void {
  switch (message.type) {
    case 'snapshot': {
      const build = (building ?? Promise.resolve())
        .then(() => snapshotFrom(message.source, setup.maxMemoryPages))
        .then(
          (snapshot) => void (deps.snapshot = snapshot),
          (err: Error) => {
            // Never decide on a stale policy: the pool starts a fresh worker, which gets the snapshot again.
            log('error')({ err: err.message }, 'policy snapshot not rebuilt in a decision worker; restarting it');
            process.exit(1);
          },
        );
      building = build;
      void build.then(() => {
        if (building === build) building = undefined;
      });
      return;
    }
    case 'namespaces':
      namespaces = new Map(message.list.map((n) => [n.name, n]));
      return;
    case 'trust':
      injector.setTrustBundle(message.pem);
      return;
    case 'decide': {
      current = message.id;
      // Memory a large review made the policy touch stays with its instance: past the bound, this worker is replaced.
      const recycle = () => deps.snapshot.peakMemoryBytes() > setup.recycleBytes;
      try {
        const decision = decide(message.webhook, message.body, deps, message.read);
        // An unknown namespace hands the body back: its memory goes with it, as it came.
        port.postMessage({ type: 'decided', id: message.id, decision, recycle: recycle() }, decision.kind === 'unknown-namespace' ? [decision.body.buffer as ArrayBuffer] : []);
      } catch (err) {
        port.postMessage({ type: 'failed', id: message.id, message: (err as Error).message, recycle: recycle() });
      }
    }
  }
}

try {
  await injector.start();
  if (setup.snapshot) deps.snapshot = await snapshotFrom(setup.snapshot, setup.maxMemoryPages);
} catch (err) {
  port.postMessage({ type: 'start-failed', message: (err as Error).message });
  process.exit(1);
}
port.on('message', (message: ToWorker) => {
  // Decisions keep their order behind a snapshot being built, and run synchronously otherwise.
  if (building && message.type !== 'snapshot') void building.then(() => handle(message));
  else handle(message);
});
port.postMessage({ type: 'ready' });
