// Namespace facts from a real informer, for end-to-end tests of the mesh: started, stopped at teardown, and
// returned once it has seen the test's namespace labelled for injection.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Test } from 'tap';
import { InformerFacts } from '../../src/kube/facts.js';

export async function meshNamespaceFacts(t: Test, kc: KubeConfig, namespace: string): Promise<InformerFacts> {
  const facts = new InformerFacts({ kc, resyncMs: 600_000, watchTimeoutSeconds: 60, retryMs: 500, log: { info: () => {}, warn: () => {} } });
  facts.start();
  t.teardown(() => facts.stop());
  for (let i = 0; facts.namespace(namespace)?.labels['portcullis.io/injection'] !== 'enabled'; i++) {
    if (i > 200) throw new Error(`the informer never saw namespace ${namespace}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return facts;
}
