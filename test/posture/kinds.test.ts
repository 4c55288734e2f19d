// The audit and eval judge exactly the kinds the validating webhook is sent: the table in
// src/posture/kinds.ts against webhooks/validating.yaml, and the chart's RBAC lets the audit list them.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { parse as parseYaml } from 'yaml';
import { collectionPath, JUDGED_KINDS, judgedKind } from '../../src/posture/kinds.js';
import { guessResource } from '../../src/admission/judge.js';
import { ROOT } from '../helpers/paths.js';
import { find, render, requireHelm } from '../e2e/chart-render.js';

interface Rule {
  apiGroups: string[];
  apiVersions: string[];
  operations: string[];
  resources: string[];
}

t.test('the judged kinds are the validating webhook CREATE rules, versions in the same order', async (t) => {
  const doc = parseYaml(await readFile(join(ROOT, 'webhooks', 'validating.yaml'), 'utf8')) as { webhooks: Array<{ rules: Rule[] }> };
  const fromWebhook = doc.webhooks
    .flatMap((w) => w.rules)
    .filter((r) => r.operations.includes('CREATE'))
    .flatMap((r) => r.apiGroups.flatMap((group) => r.resources.filter((res) => !res.includes('/')).map((resource) => `${group}/${resource} ${r.apiVersions.join(',')}`)))
    .sort();
  const ours = JUDGED_KINDS.map((k) => `${k.group}/${k.resource} ${k.versions.join(',')}`).sort();
  t.same(ours, fromWebhook);
  for (const k of JUDGED_KINDS) t.equal(guessResource(k.kind), k.resource, `${k.kind}: the review names its resource as the API server does`);
});

t.test('a judged kind is found by apiVersion and kind, in any version the webhook takes', async (t) => {
  t.equal(judgedKind('apps/v1', 'Deployment')?.resource, 'deployments');
  t.equal(judgedKind('networking.istio.io/v1alpha3', 'DestinationRule')?.resource, 'destinationrules');
  t.equal(judgedKind('v1', 'ConfigMap'), undefined);
  t.equal(judgedKind('apps/v1beta2', 'Deployment'), undefined, 'a version the API server no longer serves is not one the webhooks see');
  t.equal(judgedKind('extensions/v1beta1', 'Deployment'), undefined);
  t.equal(judgedKind('networking.istio.io/v1alpha3', 'EnvoyFilter')?.resource, 'envoyfilters', 'the proxy kinds in every version, as the webhook takes them');
  t.equal(judgedKind('extensions.istio.io/v1', 'WasmPlugin')?.resource, 'wasmplugins', 'a version Istio has not served yet too');
  t.equal(judgedKind('extensions.istio.io', 'WasmPlugin'), undefined, 'but not without a version');
  t.equal(judgedKind('networking.istio.io/v1', 'Sidecar'), undefined, 'nor a kind of the group the webhook is not sent');
  t.equal(collectionPath(JUDGED_KINDS[0] as never, 'v1'), '/api/v1/pods');
  t.equal(collectionPath(judgedKind('batch/v1', 'CronJob') as never, 'v1', 'jobs-ns'), '/apis/batch/v1/namespaces/jobs-ns/cronjobs');
});

t.test('the chart lets the audit list and watch every judged kind, and no more than that', async (t) => {
  requireHelm();
  const docs = await render('portcullis-system');
  const role = find(docs, 'ClusterRole', 'portcullis') as unknown as { rules: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }> };
  for (const k of JUDGED_KINDS) {
    t.ok(
      role.rules.some((r) => r.apiGroups.includes(k.group) && r.resources.includes(k.resource) && r.verbs.includes('list') && r.verbs.includes('watch')),
      `${k.group || 'core'}/${k.resource}`,
    );
  }
  const reports = role.rules.find((r) => r.apiGroups.includes('openreports.io'));
  t.same(reports?.verbs, ['get', 'list', 'create', 'patch', 'delete']);
  t.notOk(role.rules.some((r) => r.verbs.includes('*') || r.resources.includes('*')), 'no wildcard');
  const off = await render('portcullis-system', { 'posture.enabled': 'false' });
  const without = find(off, 'ClusterRole', 'portcullis') as unknown as { rules: Array<{ apiGroups: string[]; resources: string[] }> };
  t.notOk(without.rules.some((r) => r.apiGroups.includes('openreports.io') || r.resources.includes('deployments')), 'posture off: none of those rights');
});
