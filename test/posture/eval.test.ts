// `portcullis eval`: manifests judged as the webhooks would judge their CREATE, with the built-in bundle
// built by the pinned OPA. Inputs as CI has them (multi-document YAML, JSON, List kinds, directories,
// standard input, real `helm template` and `kustomize build` output), every output format checked by what
// reads it (SARIF by Microsoft's SARIF Multitool validator, JUnit by an XML parser), and the exit codes.
import { execFile, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { access, constants, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import t from 'tap';
import { runEval, type EvalIo } from '../../src/posture/eval/command.js';
import { DRY_RUN_TRUST_BUNDLE, evalPolicy } from '../../src/server/eval.js';
import { BUILTIN_BUNDLE } from '../../src/server/bundles.js';
import { tarGz, untarGz } from '../helpers/bundles.js';
import { ROOT } from '../helpers/paths.js';
import { CHART, HELM, KUBE_VERSION, requireHelm } from '../e2e/chart-render.js';

const run = promisify(execFile);
const KUSTOMIZE = join(ROOT, '.tools', 'bin', 'kustomize');
const SARIF_MULTITOOL = join(ROOT, 'node_modules', '@microsoft', 'sarif-multitool-linux', 'Sarif.Multitool');

const dir = await mkdtemp(join(tmpdir(), 'portcullis-eval-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

/** Runs eval in this process; what it printed and its exit code. */
async function evaluate(args: string[], stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: EvalIo = { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), stdin: async () => stdin, version: '0.1.0-test' };
  const code = await runEval(args, evalPolicy, io);
  return { code, stdout, stderr };
}
async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, text);
  return path;
}

const goodPod = `apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web, version: v1}
spec:
  serviceAccountName: web
  containers:
    - name: web
      image: registry.example.com/web:1.4.2
`;
const badDeployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: legacy, namespace: payments}
spec:
  selector: {matchLabels: {app: legacy}}
  template:
    metadata: {labels: {app: legacy, version: v1}}
    spec:
      serviceAccountName: legacy
      containers:
        - name: app
          image: registry.example.com/legacy:2.0
          securityContext: {privileged: true}
`;
const meshNamespace = `apiVersion: v1
kind: Namespace
metadata:
  name: payments
  labels: {portcullis.io/injection: enabled}
`;

t.test('a refused object: exit 1, the table names file, line, object, rule and fix', async (t) => {
  const path = await file('refused/all.yaml', `# comment\n---\n${meshNamespace}---\n${badDeployment}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n`);
  const out = await evaluate([path]);
  t.equal(out.code, 1);
  t.equal(out.stderr, '');
  t.match(out.stdout, new RegExp(`${path}:3 +Namespace payments +not judged`));
  t.match(out.stdout, new RegExp(`${path}:9 +Deployment payments/legacy +REFUSED`));
  t.match(out.stdout, /✗ no-privileged: container "app" runs privileged: remove spec.template.spec.containers\[0\].securityContext.privileged/);
  t.match(out.stdout, /3 objects: 1 refused, 0 with warnings, 0 allowed, 2 not judged \(bundle builtin sha256-/);
});

t.test('mutation first: a Pod in a mesh namespace gets the sidecar and passes; outside, it is not injected', async (t) => {
  const path = await file('pods.yaml', goodPod);
  const mesh = await evaluate(['-o', 'json', '-n', 'payments', '-l', 'portcullis.io/injection=enabled', path]);
  t.equal(mesh.code, 0, mesh.stderr);
  const [pod] = JSON.parse(mesh.stdout).results;
  t.match(pod, { file: path, document: 1, line: 1, kind: 'Pod', namespace: 'payments', name: 'web', judged: true, allowed: true, injected: true, violations: [] });
  t.ok(pod.patch.some((op: { path: string; value?: { name?: string } }) => op.path === '/spec/containers/-' && op.value?.name === 'portcullis-proxy'), 'the patch adds the proxy');
  // Away from the cluster the proxy trusts a fixed stand-in CA (no key exists for it): the same input gives the same patch every run.
  t.ok(JSON.stringify(pod.patch).includes(DRY_RUN_TRUST_BUNDLE.split('\n')[1] as string), "the proxy's bootstrap trusts the dry run's stand-in CA");
  t.ok(new X509Certificate(DRY_RUN_TRUST_BUNDLE).ca, 'a CA certificate');
  const again = await evaluate(['-o', 'json', '-n', 'payments', '-l', 'portcullis.io/injection=enabled', path]);
  t.same(JSON.parse(again.stdout).results[0].patch, pod.patch, 'the patch is the same in a second run');

  const plain = await evaluate(['-o', 'json', path]);
  t.equal(plain.code, 0);
  t.match(JSON.parse(plain.stdout).results[0], { namespace: 'default', injected: false, injectionReason: /namespace/ });

  // The same Pod opting out in the mesh: not injected, so refused by sidecar-required.
  const optOut = await file('opt-out.yaml', goodPod.replace('labels: {app: web, version: v1}', 'labels: {app: web, version: v1, sidecar.portcullis.io/inject: "false"}'));
  const refused = await evaluate(['-n', 'payments', '-l', 'payments:portcullis.io/injection=enabled', optOut]);
  t.equal(refused.code, 1);
  t.match(refused.stdout, /Pod payments\/web +REFUSED +no/);
  t.match(refused.stdout, /✗ sidecar-required:/);
});

t.test('namespace facts from a file; Namespace objects of the input count too', async (t) => {
  const facts = await file('facts.yaml', 'namespaces:\n  - name: payments\n    labels: {portcullis.io/injection: enabled}\n');
  const pod = await file('payments-pod.yaml', goodPod.replace('name: web\n', 'name: web\n  namespace: payments\n'));
  const fromFile = JSON.parse((await evaluate(['-o', 'json', '--namespaces', facts, pod])).stdout);
  t.equal(fromFile.results[0].injected, true);
  const fromInput = JSON.parse((await evaluate(['-o', 'json', await file('ns.yaml', meshNamespace), pod])).stdout);
  t.equal(fromInput.results[1].injected, true, 'the Namespace object makes it a mesh namespace');
});

t.test("Istio's proxy kinds in every version the webhook takes; other Istio kinds not judged", async (t) => {
  const path = await file('istio.yaml', [
    'apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata: {name: remove-rbac, namespace: shop}\nspec:\n  configPatches:\n    - applyTo: HTTP_FILTER\n      patch: {operation: REMOVE}\n',
    'apiVersion: extensions.istio.io/v1\nkind: WasmPlugin\nmetadata: {name: headers, namespace: shop}\nspec: {url: "oci://registry.example.com/headers:1.0", phase: STATS}\n',
    'apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: default, namespace: shop}\nspec: {}\n',
  ].join('---\n'));
  const out = await evaluate(['-o', 'json', path]);
  t.equal(out.code, 1, out.stderr);
  t.match(JSON.parse(out.stdout).results, [
    { kind: 'networking.istio.io/EnvoyFilter', judged: true, allowed: false, violations: [{ rule: 'proxy-extension-allowlist' }] },
    { kind: 'extensions.istio.io/WasmPlugin', judged: true, allowed: false, violations: [{ rule: 'proxy-extension-allowlist' }] },
    { kind: 'networking.istio.io/Sidecar', judged: false, allowed: true },
  ]);
});

t.test('List kinds, JSON files, directories and standard input', async (t) => {
  const list = await file('tree/list.yaml', `apiVersion: v1\nkind: List\nitems:\n  - ${badDeployment.replaceAll('\n', '\n    ').trimEnd()}\n  - apiVersion: v1\n    kind: Service\n    metadata: {name: api}\n    spec:\n      ports: [{name: web, port: 80}]\n`);
  await file('tree/nested/object.json', JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'grpc' }, spec: { ports: [{ name: 'grpc', port: 9000 }] } }));
  await file('tree/nested/list.json', JSON.stringify({ apiVersion: 'v1', kind: 'ServiceList', items: [{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'one' }, spec: { ports: [{ name: 'x', port: 1 }] } }] }));
  await file('tree/.hidden/ignored.yaml', 'not: [valid');
  await file('tree/README.md', '# not a manifest');
  const out = JSON.parse((await evaluate(['-o', 'json', join(dir, 'tree')])).stdout);
  t.same(
    out.results.map((r: { file: string; line: number; item?: number; kind: string; name: string; allowed: boolean }) => [r.file.slice(dir.length + 1), r.line, r.item, r.kind, r.name, r.allowed]),
    [
      ['tree/list.yaml', 4, 0, 'apps/Deployment', 'legacy', false],
      ['tree/list.yaml', 17, 1, 'Service', 'api', false],
      ['tree/nested/list.json', 1, 0, 'Service', 'one', false],
      ['tree/nested/object.json', 1, undefined, 'Service', 'grpc', true],
    ],
    'items of Lists with their own lines, directories in name order, hidden and non-manifest files skipped',
  );
  t.equal(list.endsWith('list.yaml'), true);

  const stdin = await evaluate(['-o', 'json', '-'], badDeployment);
  t.equal(stdin.code, 1);
  t.match(JSON.parse(stdin.stdout).results, [{ file: '-', name: 'legacy', allowed: false }]);
});

t.test('the output of helm template: every rendered object judged, at the line of its document', async (t) => {
  requireHelm();
  const rendered = await run(HELM, ['template', 'portcullis', CHART, '--namespace', 'portcullis-system', '--kube-version', KUBE_VERSION], { maxBuffer: 16 * 1024 * 1024 });
  const path = await file('helm.yaml', rendered.stdout);
  const out = await evaluate(['-o', 'json', path]);
  t.not(out.code, 2, out.stderr);
  const results = JSON.parse(out.stdout).results as Array<{ line: number; kind: string; name: string; judged: boolean }>;
  const lines = rendered.stdout.split('\n');
  const documents = rendered.stdout.split(/^---$/m).filter((d) => /^kind:/m.test(d)).length;
  t.equal(results.length, documents, 'one result per rendered object');
  for (const r of results) t.match(lines[r.line - 1], /^(apiVersion|kind):/, `${r.kind} ${r.name} points at its document`);
  t.ok(results.some((r) => r.kind === 'apps/Deployment' && r.judged), 'the Deployment is judged');
  t.ok(results.some((r) => r.kind === 'Service' && r.judged));
});

t.test('the output of kustomize build: its namespace and labels are what is judged', async (t) => {
  await access(KUSTOMIZE, constants.X_OK).catch(() => {
    throw new Error(`kustomize is missing at ${KUSTOMIZE}: build it with \`bash scripts/tools.sh kustomize\``);
  });
  const base = join(dir, 'kustomize');
  await file('kustomize/pod.yaml', goodPod.replace('labels: {app: web, version: v1}', 'labels: {app: web}'));
  await file('kustomize/kustomization.yaml', 'namespace: shop\nlabels:\n  - pairs: {version: v2}\n    includeTemplates: true\nresources: [pod.yaml]\n');
  const built = await run(KUSTOMIZE, ['build', base]);
  const out = await evaluate(['-o', 'json', '-l', 'shop:portcullis.io/injection=enabled', '-'], built.stdout);
  t.equal(out.code, 0, out.stdout + out.stderr);
  t.match(JSON.parse(out.stdout).results, [{ kind: 'Pod', namespace: 'shop', name: 'web', allowed: true, injected: true }], 'the label kustomize added satisfies required-labels');
});

t.test('bad input: exit 2 and a message naming the file and document', async (t) => {
  const cases: Array<[string, string[], RegExp]> = [
    ['broken.yaml', [`${goodPod}---\nmetadata: [unclosed\n`], /broken\.yaml, document 2: not valid YAML or JSON at line 13/],
    ['nokind.yaml', [`${goodPod}---\napiVersion: v1\nmetadata: {name: x}\n`], /nokind\.yaml, document 2 \(line 12\): not a Kubernetes object: apiVersion and kind/],
    ['scalar.yaml', ['just a string\n'], /scalar\.yaml, document 1 \(line 1\): not a Kubernetes object/],
    ['badlist.yaml', ['apiVersion: v1\nkind: List\nitems: 3\n'], /badlist\.yaml, document 1 \(line 1\): a List needs items/],
    ['baditem.yaml', ['apiVersion: v1\nkind: List\nitems: [3]\n'], /baditem\.yaml, document 1 \(line 1\), item 0: not a Kubernetes object/],
    ['badmeta.json', ['{"apiVersion": "v1", "kind": "Pod", "metadata": "x"}'], /badmeta\.json, document 1 \(line 1\): metadata must be a mapping/],
    ['dupkeys.yaml', ['apiVersion: v1\nkind: Pod\nkind: Service\n'], /dupkeys\.yaml, document 1: not valid YAML or JSON.*[Mm]ap keys must be unique/],
  ];
  for (const [name, [text], message] of cases) {
    const out = await evaluate([await file(`bad/${name}`, text as string)]);
    t.equal(out.code, 2, name);
    t.match(out.stderr, message, name);
    t.equal(out.stdout, '', 'nothing judged when the input is bad');
  }
  const missing = await evaluate([join(dir, 'nope.yaml')]);
  t.equal(missing.code, 2);
  t.match(missing.stderr, /nope\.yaml: no such file or directory/);
  t.match((await evaluate(['-o', 'xml', join(dir, 'pods.yaml')])).stderr, /--output must be one of table, json, sarif, junit/);
  t.match((await evaluate([])).stderr, /name at least one file/);
  t.match((await evaluate(['-l', 'novalue', join(dir, 'pods.yaml')])).stderr, /--label novalue: expected \[NAMESPACE:\]KEY=VALUE/);
  t.match((await evaluate(['--namespaces', await file('bad/facts.yaml', 'namespaces: [{labels: {}}]'), join(dir, 'pods.yaml')])).stderr, /namespaces\[0\]\.name must be a non-empty string/);
});

t.test('the bundle: a path, a URL, or a bad one (exit 2, never a hang)', async (t) => {
  const pods = join(dir, 'pods.yaml');
  const fromPath = await evaluate(['-o', 'json', '--bundle', BUILTIN_BUNDLE, pods]);
  t.equal(fromPath.code, 0, fromPath.stderr);
  t.match(JSON.parse(fromPath.stdout).bundles, { eval: /^sha256-/ });

  // The same bundle with a rule switched to warn in its data, served over HTTP as a bundle server would.
  const entries = await untarGz(await readFile(BUILTIN_BUNDLE));
  const data = JSON.parse(String(entries.find((e) => e.name === '/data.json')?.content));
  // The Pod Security check behind the floor rule judges a privileged container once the floor rule only warns.
  data.portcullis.config.enforcement = { 'no-privileged': 'warn', 'pod-security:privileged': 'warn' };
  const relaxed = await tarGz(entries.map((e) => (e.name === '/data.json' ? { ...e, content: JSON.stringify(data) } : e)));
  const { createServer } = await import('node:http');
  const server = createServer((req, res) => {
    if (req.url === '/bundles/mesh.tar.gz') res.writeHead(200, { 'content-type': 'application/gzip' }).end(relaxed);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as { port: number }).port;
  const deployment = await file('legacy.yaml', badDeployment);
  const warned = await evaluate(['--bundle', `http://127.0.0.1:${port}/bundles/mesh.tar.gz`, deployment]);
  t.equal(warned.code, 0, 'a warn rule does not refuse');
  t.match(warned.stdout, /Deployment payments\/legacy +warnings/);
  t.match(warned.stdout, /! no-privileged \(warn\): container "app" runs privileged/);

  const missing = await evaluate(['--bundle', `http://127.0.0.1:${port}/bundles/none.tar.gz`, pods]);
  t.equal(missing.code, 2);
  t.match(missing.stderr, /bundle eval \(.*none\.tar\.gz\): .*404/);
  const corrupt = await evaluate(['--bundle', await file('corrupt.tar.gz', 'not gzip at all'), pods]);
  t.equal(corrupt.code, 2);
  t.match(corrupt.stderr, /bundle eval \(local .*corrupt\.tar\.gz\): /);
  const badData = await evaluate(['--data', await file('data.yaml', '[1, 2]'), pods]);
  t.equal(badData.code, 2);
  t.match(badData.stderr, /policy\.dataFile .*data\.yaml: the document must be an object/);
  const badConfig = await evaluate(['--config', await file('config.yaml', 'policy: {maxMemoryPages: 1}'), pods]);
  t.equal(badConfig.code, 2);
  t.match(badConfig.stderr, /invalid configuration in .*config\.yaml:\n  - \/policy\/maxMemoryPages: must be >= 16/);
});

t.test('SARIF: valid for the SARIF Multitool, one result per violation at its line, levels by enforcement', async (t) => {
  const data = await file('warn-data.yaml', 'portcullis:\n  config:\n    enforcement: {required-labels: warn, image-tag-pinned: dryrun}\n    podSecurity: {enforce: baseline, warn: baseline, audit: baseline}\n');
  const input = await file('sarif/in.yaml', `${badDeployment}---\n${goodPod.replace('labels: {app: web, version: v1}', 'labels: {app: web}').replace(':1.4.2', ':latest')}`);
  const out = await evaluate(['-o', 'sarif', '--data', data, relative(process.cwd(), input)]);
  t.equal(out.code, 1, out.stderr);
  const doc = JSON.parse(out.stdout);
  t.equal(doc.version, '2.1.0');
  const results = doc.runs[0].results as Array<{ ruleId: string; level: string; locations: Array<{ physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }>; message: { text: string } }>;
  t.same(
    results.map((r) => [r.ruleId, r.level, r.locations[0]?.physicalLocation.region.startLine]).sort(),
    [
      ['image-tag-pinned', 'note', 15],
      ['no-privileged', 'error', 1],
      ['required-labels', 'warning', 15],
    ],
  );
  t.notOk(results.some((r) => r.locations[0]?.physicalLocation.artifactLocation.uri.startsWith('/')), 'relative paths stay relative');
  t.same(doc.runs[0].tool.driver.rules.map((r: { id: string }) => r.id), ['image-tag-pinned', 'no-privileged', 'required-labels']);
  const sarifFile = await file('out.sarif', out.stdout);
  const absolute = await file('abs.sarif', (await evaluate(['-o', 'sarif', input])).stdout);
  for (const f of [sarifFile, absolute]) {
    const checked = await run(SARIF_MULTITOOL, ['validate', f, '--output', `${f}.validation`, '--log', 'ForceOverwrite'], { env: { ...process.env, DOTNET_SYSTEM_GLOBALIZATION_INVARIANT: '1' } }).then(
      (r) => r.stdout,
      (err: { stdout?: string; message: string }) => err.stdout ?? err.message,
    );
    const report = JSON.parse(await readFile(`${f}.validation`, 'utf8'));
    const errors = report.runs[0].results.filter((r: { level?: string }) => r.level === 'error');
    t.same(errors, [], `no validation error in ${f}: ${checked}`);
  }
});

t.test('JUnit: well-formed, one case per object, refusals as failures, escaped', async (t) => {
  const input = await file('junit/in.yaml', `${badDeployment}---\n${goodPod.replace('name: web\n', 'name: "a<b&\\"c"\n')}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n`);
  const out = await evaluate(['-o', 'junit', input]);
  t.equal(out.code, 1);
  t.equal(XMLValidator.validate(out.stdout), true, 'well-formed XML');
  const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(out.stdout);
  t.match(xml.testsuites, { name: 'portcullis eval', tests: '3', failures: '1', skipped: '1' });
  const cases = xml.testsuites.testsuite.testcase;
  t.equal(cases.length, 3);
  t.match(cases[0], { name: /^Deployment payments\/legacy \(.*in\.yaml:1\)$/, failure: { type: 'no-privileged', '#text': /no-privileged: container "app" runs privileged/ } });
  t.match(cases[1], { name: /^Pod default\/a<b&"c \(/ });
  t.notOk('failure' in cases[1]);
  t.ok('skipped' in cases[2]);
});

t.test('the command line: exit codes and standard input through the real process', async (t) => {
  const cli = join(ROOT, 'src', 'cli.ts');
  const call = (args: string[], stdin: string) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', cli, 'eval', ...args], { cwd: ROOT });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c));
      child.stderr.on('data', (c: Buffer) => (stderr += c));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(stdin);
    });
  const refused = await call(['-'], badDeployment);
  t.equal(refused.code, 1);
  t.match(refused.stdout, /\(stdin\):1 +Deployment payments\/legacy +REFUSED/);
  t.equal((await call(['-'], goodPod)).code, 0);
  const bad = await call(['-'], 'apiVersion: v1\n');
  t.equal(bad.code, 2);
  t.match(bad.stderr, /^portcullis eval: standard input, document 1 \(line 1\): not a Kubernetes object/);
  t.match((await call(['--help'], '')).stdout, /usage: portcullis eval/);
});
