// A process that owns a control plane and dies without stopping it, for the cleanup test in
// test/e2e/controlplane.test.ts: `node --import tsx kube-owner-dies.ts throw|hang`. It prints the
// plane's info as one JSON line, then throws (mode throw) or waits to be killed (mode hang).
import { startControlPlane } from './controlplane.js';

const mode = process.argv[2];
if (mode !== 'throw' && mode !== 'hang') {
  console.error('usage: kube-owner-dies.ts throw|hang');
  process.exit(2);
}
const plane = await startControlPlane();
console.log(JSON.stringify({ dir: plane.dir, kubeconfigPath: plane.kubeconfigPath, pids: plane.pids }));
if (mode === 'throw') throw new Error('thrown mid-way, with the control plane still running');
setInterval(() => undefined, 60_000);
