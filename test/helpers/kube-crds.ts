// Installs CustomResourceDefinitions (by default Istio's kinds from test/fixtures/crds) and waits until
// the API server serves them.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiException, ApiextensionsV1Api, type KubeConfig, loadAllYaml, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { FIXTURES } from './paths.js';

export const ISTIO_CRDS = join(FIXTURES, 'crds');

async function readCrds(dir: string): Promise<V1CustomResourceDefinition[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.yaml')).sort();
  const crds: V1CustomResourceDefinition[] = [];
  for (const file of files) {
    // client-node's own loader: its serializer only writes fields under their model names
    // (x_kubernetes_preserve_unknown_fields), so plain YAML objects would lose such fields on the way out.
    for (const doc of loadAllYaml(await readFile(join(dir, file), 'utf8'))) {
      const crd = doc as V1CustomResourceDefinition;
      if (crd.kind !== 'CustomResourceDefinition' || !crd.metadata?.name) throw new Error(`${file}: a document is not a named CustomResourceDefinition`);
      crds.push(crd);
    }
  }
  return crds;
}

const established = (crd: V1CustomResourceDefinition): boolean =>
  crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ?? false;

/**
 * Creates every CRD in the dir's *.yaml files, leaving ones that already exist (files sharing a control
 * plane all install the same set), and resolves with their names once each is Established.
 */
export async function installCrds(kc: KubeConfig, dir = ISTIO_CRDS, timeoutMs = 30_000): Promise<string[]> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  const crds = await readCrds(dir);
  for (const body of crds) {
    try {
      await api.createCustomResourceDefinition({ body });
    } catch (err) {
      if (!(err instanceof ApiException && err.code === 409)) throw err;
    }
  }
  const names = crds.map((crd) => crd.metadata?.name ?? '');
  const deadline = Date.now() + timeoutMs;
  for (const name of names) {
    while (!established(await api.readCustomResourceDefinition({ name }))) {
      if (Date.now() >= deadline) throw new Error(`CRD ${name} not Established within ${timeoutMs}ms`);
      await sleep(100);
    }
  }
  return names;
}
