// docs/configuration.md is generated from the configuration's JSON Schema; it must say what the schema says.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { CONFIGURATION_DOC, renderConfigReference } from '../../scripts/config-docs.js';
import { parse as parseYaml } from 'yaml';
import { Config, parseConfig } from '../../src/server/config.js';

t.test('docs/configuration.md is what the schema generates (npm run docs:config regenerates it)', async (t) => {
  t.equal(readFileSync(CONFIGURATION_DOC, 'utf8'), renderConfigReference(), 'stale: run npm run docs:config and commit the result');
});

t.test('every key the schema accepts has a row, with its default', async (t) => {
  const doc = readFileSync(CONFIGURATION_DOC, 'utf8');
  const keys: string[] = [];
  const visit = (schema: { properties?: Record<string, unknown> }, prefix: string) => {
    for (const [name, child] of Object.entries(schema.properties ?? {})) {
      const key = prefix ? `${prefix}.${name}` : name;
      keys.push(key);
      visit(child as { properties?: Record<string, unknown> }, key);
    }
  };
  visit(Config as unknown as { properties: Record<string, unknown> }, '');
  t.ok(keys.length > 100, `${keys.length} keys`);
  for (const key of keys) t.match(doc, `\`${key}`, key);
  t.match(doc, '| `admission.port` | integer, 0–65535 | `8443` |');
});

t.test('the example file in the reference is a valid configuration', async (t) => {
  const doc = readFileSync(CONFIGURATION_DOC, 'utf8');
  const example = /```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
  t.ok(example, 'the reference has a YAML example');
  const config = parseConfig(parseYaml(example!), 'docs/configuration.md');
  t.equal(config.mode, 'kubernetes');
  t.equal(config.policy.bundles?.[0]?.polling.minDelaySeconds, 60, 'defaults are filled in');
});
