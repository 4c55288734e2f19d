// Owns one control plane: `node --import tsx kube-supervisor.ts DIR OWNER_PID OPTIONS_JSON`.
// Started detached by controlplane.ts, it launches etcd and kube-apiserver into DIR, reports through
// DIR/state.json, and lives until its owner process is gone or it is sent SIGTERM; then it stops both
// servers and removes DIR. Watching the owner's pid, rather than trusting the owner to clean up, is what
// makes cleanup hold when a test throws, times out, or is killed outright.
import { rm } from 'node:fs/promises';
import { launch, shutdown } from './kube-processes.js';
import { alive, type SupervisorOptions, writeState } from './kube-state.js';

const args = process.argv.slice(2);
if (args.length !== 3) {
  console.error('usage: kube-supervisor.ts DIR OWNER_PID OPTIONS_JSON');
  process.exit(2);
}
const [dir, ownerArg, optionsJson] = args as [string, string, string];
const owner = Number(ownerArg);
const options = JSON.parse(optionsJson) as SupervisorOptions;
const log = (msg: string) => console.log(`${new Date().toISOString()} supervisor ${process.pid}: ${msg}`);

let stopping: Promise<void> | undefined;
function stop(reason: string): Promise<void> {
  stopping ??= (async () => {
    log(`stopping (${reason})`);
    await shutdown();
    await rm(dir, { recursive: true, force: true });
    process.exit(0);
  })();
  return stopping;
}

for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => void stop(signal));
// The interval also keeps this process alive after launch() settles: it waits for its owner.
setInterval(() => {
  if (!alive(owner)) void stop(`owner ${owner} exited`);
}, 250);

log(`starting for owner ${owner} in ${dir}`);
try {
  const plane = await launch({ dir, ...options });
  if (!stopping) {
    await writeState(dir, { status: 'ready', server: plane.server, kubeconfigPath: plane.kubeconfigPath, pids: { supervisor: process.pid, ...plane.pids } });
    log(`ready at ${plane.server}`);
  }
} catch (err) {
  if (!stopping) {
    const message = err instanceof Error ? err.message : String(err);
    await writeState(dir, { status: 'failed', message });
    log(`failed: ${message}`);
  }
}
