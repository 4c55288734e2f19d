import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import t from 'tap';
import { compileDeclaredSchemas, declaredSchemas, schemaValidator } from '../../src/schema/validator.js';
import { ROOT } from '../helpers/paths.js';

// schemaValidator compiles without checking the schema against the meta-schema (that check alone cost every
// start a third of a second): it is made here instead, for every schema of the source.

async function sourcesDeclaringSchemas(): Promise<Array<{ file: string; calls: number }>> {
  const found: Array<{ file: string; calls: number }> = [];
  for (const entry of await readdir(join(ROOT, 'src'), { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts') || entry.name.endsWith('.d.ts')) continue;
    const file = join(entry.parentPath, entry.name);
    if (file.endsWith(join('schema', 'validator.ts'))) continue;
    const calls = ((await readFile(file, 'utf8')).match(/\bschemaValidator(<[^(]*>)?\(/g) ?? []).length;
    if (calls > 0) found.push({ file, calls });
  }
  return found;
}

t.test('every schema of the source is a valid JSON Schema', async (t) => {
  const sources = await sourcesDeclaringSchemas();
  t.ok(sources.length >= 6, `the configuration, review, patch, violations, Pod and sidecar schemas are found (${sources.length} files)`);
  const before = declaredSchemas.length;
  for (const { file } of sources) await import(file);
  const declared = declaredSchemas.slice(before);
  t.equal(declared.length, sources.reduce((n, s) => n + s.calls, 0), 'each call site declared its schema when its module loaded');
  for (const { schema, options } of declared) {
    const ajv = new Ajv({ ...options, strict: false });
    t.ok(ajv.validateSchema(schema), `${JSON.stringify(schema).slice(0, 80)}: ${ajv.errorsText(ajv.errors)}`);
  }
});

t.test('the meta-schema check catches a broken schema', async (t) => {
  const ajv = new Ajv({ strict: false });
  t.notOk(ajv.validateSchema({ type: 'object', properties: { name: { type: 'strin' } } }));
});

t.test('a validator compiles on first use and reports why a value does not match', async (t) => {
  const validate = schemaValidator<{ name: string }>({ type: 'object', required: ['name'], properties: { name: { type: 'string' } } }, { allErrors: true });
  t.equal(validate.errors, undefined, 'nothing compiled nor checked yet');
  t.ok(validate({ name: 'web' }));
  t.notOk(validate({ name: 1 }));
  t.match(validate.errors, [{ instancePath: '/name', message: 'must be string' }]);
  t.ok(validate({ name: 'again' }));
  t.equal(validate.errors, null, 'a match clears the errors');
});

t.test('a server compiles what its modules declared before its first request', async (t) => {
  const validate = schemaValidator<string>({ type: 'string' });
  compileDeclaredSchemas();
  t.equal(validate.errors, null, 'compiled (and reset) without having checked a value');
  t.notOk(validate(1));
});
