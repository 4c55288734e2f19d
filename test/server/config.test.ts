import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ConfigError, loadConfig, parseConfig } from '../../src/server/config.js';

t.test('no file means standalone defaults on the documented ports', async (t) => {
  const config = await loadConfig(undefined);
  t.equal(config.mode, 'standalone');
  t.equal(config.admission.port, 8443);
  t.equal(config.authz.grpc.port, 9191);
  t.equal(config.authz.http.port, 9192);
  t.equal(config.admin.port, 9090);
  t.equal(config.authz.failureMode, 'deny', 'authz fails closed by default');
  t.equal(config.tls.minVersion, 'TLSv1.2');
  t.same(config.audit.sinks, [{ type: 'stdout' }]);
});

t.test('every problem is reported with its path, and nothing is started', async (t) => {
  const err = t.throws(() =>
    parseConfig({ mode: 'cloud', admission: { port: 70000 }, audit: { sinks: [{ type: 'file' }, { type: 'kafka' }] }, extra: true }, 'portcullis.yaml'),
  ) as ConfigError;
  t.type(err, ConfigError);
  t.match(err.message, /^invalid configuration in portcullis\.yaml:/);
  t.match(err.problems, [/^\/: unknown field "extra"/]);
  t.ok(err.problems.some((p) => /^\/mode: /.test(p)), 'enum violation');
  t.ok(err.problems.some((p) => /^\/admission\/port: must be <= 65535/.test(p)));
  t.ok(err.problems.some((p) => /^\/audit\/sinks\/0: must have required property 'path'/.test(p)));
  t.ok(err.problems.some((p) => /^\/audit\/sinks\/1: .*tag "type"/.test(p)));
});

t.test('YAML files: defaults fill in, sink defaults too; bad YAML and missing files are clear errors', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-config-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'portcullis.yaml');
  await writeFile(file, 'mode: kubernetes\naudit:\n  sinks:\n    - type: file\n      path: /var/log/portcullis/audit.log\n');
  const config = await loadConfig(file);
  t.equal(config.mode, 'kubernetes');
  t.same(config.audit.sinks, [{ type: 'file', path: '/var/log/portcullis/audit.log', maxBytes: 100 * 1024 * 1024, maxFiles: 5 }]);
  await writeFile(file, 'mode: [unclosed');
  await t.rejects(loadConfig(file), { name: 'ConfigError', message: /not valid YAML/ });
  await t.rejects(loadConfig(join(dir, 'missing.yaml')), { name: 'ConfigError', message: /cannot read the file/ });
});

t.test('parseConfig does not modify what it is given', async (t) => {
  const doc = { admission: {} };
  parseConfig(doc);
  t.same(doc, { admission: {} });
});
