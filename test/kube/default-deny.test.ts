import { CustomObjectsApi, type V1Namespace } from '@kubernetes/client-node';
import t from 'tap';
import type { NamespaceInfo } from '../../src/facts/facts.js';
import { DefaultDenyController } from '../../src/kube/default-deny.js';
import type { Reflector } from '../../src/kube/reflector.js';
import { installCrds } from '../helpers/kube-crds.js';
import { cluster, memoryLog, testNamespace } from './support.js';

t.test('default-deny: created once in a mesh namespace; a terminating namespace is skipped quietly', async (t) => {
  const c = await cluster();
  await installCrds(c.kc);
  const log = memoryLog();
  // ensure() is what the namespace events call; the reflector is not needed to exercise it.
  const controller = new DefaultDenyController({ kc: c.kc, namespaces: {} as Reflector<V1Namespace, NamespaceInfo>, name: 'default-deny', injectionLabel: 'portcullis.io/injection', log });
  const objects = c.kc.makeApiClient(CustomObjectsApi);

  const mesh = await testNamespace(t, c, 'deny-mesh', { 'portcullis.io/injection': 'enabled' });
  t.equal(await controller.ensure(mesh), true, 'created');
  t.equal(await controller.ensure(mesh), false, 'already there: left alone');
  const policy = (await objects.getNamespacedCustomObject({ group: 'security.istio.io', version: 'v1', namespace: mesh, plural: 'authorizationpolicies', name: 'default-deny' })) as { spec: unknown };
  t.same(policy.spec, {}, 'no selector, no rules: deny all');

  // Without a namespace controller a deleted namespace stays Terminating, as it does while one drains.
  const leaving = await testNamespace(t, c, 'deny-leaving', { 'portcullis.io/injection': 'enabled' });
  await c.core.deleteNamespace({ name: leaving });
  t.equal(await controller.ensure(leaving), false);
  t.same(log.lines.filter((l) => l.level === 'warn'), [], 'no warning for a namespace on its way out');
  t.match(log.lines.at(-1), { level: 'debug', namespace: leaving, msg: /terminating/ });
});
