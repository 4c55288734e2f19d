import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { AuditLog } from '../../src/audit/log.js';
import { FileSink } from '../../src/audit/sinks/file.js';
import { sha256, splitLine } from '../../src/audit/chain.js';
import { verifyLines } from '../../src/audit/verify.js';
import { ROOT } from '../helpers/paths.js';

const run = promisify(execFile);

async function writeEvents(dir: string, count: number, options: { maxBytes?: number; instance?: string } = {}): Promise<string> {
  const path = join(dir, 'audit.log');
  const sink = new FileSink({ path, maxBytes: options.maxBytes ?? 1024 * 1024, maxFiles: 10 });
  const log = new AuditLog({ sinks: [sink], labels: { id: options.instance ?? 'test-1', version: 'test' } });
  for (let i = 0; i < count; i++) {
    log.record({
      path: 'portcullis/authz/decision',
      input: { n: i, attributes: { request: { http: { headers: { authorization: 'Bearer secret-token' } } } } },
      result: { allowed: i % 2 === 0 },
      bundles: { builtin: { revision: 'r1' } },
      metrics: { timer_rego_eval_ns: 1000 },
      kind: 'authz',
      decision: i % 2 === 0 ? 'allow' : 'deny',
    });
  }
  await log.close();
  return path;
}

const lines = async (path: string) => (await readFile(path, 'utf8')).split('\n').filter((l) => l !== '');
const verify = (ls: string[]) => verifyLines([{ source: 'audit.log', lines: ls }]);

t.test('an untouched log verifies; every kind of tampering is reported at the right event', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-audit-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const original = await lines(await writeEvents(dir, 10));
  t.equal(original.length, 10);
  const first = JSON.parse(original[0] as string);
  t.match(first, { seq: 1, prev_hash: '0'.repeat(64), kind: 'authz', labels: { id: 'test-1' }, decision_id: /^[0-9a-f-]{36}$/ });
  t.match(first.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/, 'RFC 3339 with nanoseconds, as OPA');
  t.same(verify(original), { events: 10, chains: 1, skipped: 0 });

  const edited = [...original];
  const e = JSON.parse(edited[4] as string);
  e.result.allowed = !e.result.allowed;
  edited[4] = JSON.stringify(e);
  t.match(verify(edited).problem, { line: 5, message: /altered: the content of event seq 5/ }, 'edit');

  const removed = original.filter((_, i) => i !== 6);
  t.match(verify(removed).problem, { line: 7, message: /removed: seq 7 missing/ }, 'deletion');

  const removedMany = original.filter((_, i) => i < 2 || i > 5);
  t.match(verify(removedMany).problem, { line: 3, message: /removed: seq 3\.\.6 missing/ }, 'deletion of a range');

  const reordered = [...original];
  [reordered[2], reordered[3]] = [reordered[3] as string, reordered[2] as string];
  t.match(verify(reordered).problem, { line: 3, message: /removed: seq 3 missing/ }, 'a swap shows first as a gap');
  const moved = [...original.slice(0, 5), original[1] as string, ...original.slice(5)];
  t.match(verify(moved).problem, { line: 6, message: /reordered: seq 2 comes after seq 5/ }, 'an event moved later');

  // A forger recomputes the hash of an edited event: the next event's link exposes it.
  const forgedBody = (original[3] as string).replace(/"allowed":(true|false)/, (_m, v: string) => `"allowed":${v === 'true' ? 'false' : 'true'}`);
  const split = splitLine(forgedBody)!;
  const withForgery = [...original];
  withForgery[3] = `${split.body.slice(0, -1)},"hash":"${sha256(split.body)}"}`;
  t.match(verify(withForgery).problem, { line: 5, message: /replaced: event seq 4/ }, 'rehashed forgery');

  const stripped = (original[0] as string).replace(/,"hash":"[0-9a-f]{64}"\}$/, '}');
  t.match(verify([stripped, ...original.slice(1)]).problem, { line: 1, message: /no hash chain fields/ });
  const spaced = JSON.stringify(JSON.parse(original[0] as string), null, 1).replace(/\n/g, '');
  t.match(verify([spaced, ...original.slice(1)]).problem, { line: 1 }, 'the hash covers the line as written, byte for byte');

  const mixed = ['{"level":30,"msg":"bundle activated"}', 'not json', ...original];
  t.same(verify(mixed), { events: 10, chains: 1, skipped: 2 }, 'service log lines on the same stdout are skipped');
});

t.test('rotated files verify as one chain, oldest first; instances chain separately', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-audit-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const path = await writeEvents(dir, 40, { maxBytes: 4096 });
  const files = [10, 9, 8, 7, 6, 5, 4, 3, 2, 1].map((i) => `${path}.${i}`);
  const existing: string[] = [];
  for (const f of files) if (await readFile(f).then(() => true, () => false)) existing.push(f);
  t.ok(existing.length >= 2, `rotated into ${existing.length + 1} files`);
  const inputs = await Promise.all([...existing, path].map(async (f) => ({ source: f, lines: await lines(f) })));
  t.same(verifyLines(inputs), { events: 40, chains: 1, skipped: 0 });
  t.match(verifyLines(inputs.slice(1)), { events: inputs.slice(1).reduce((n, i) => n + i.lines.length, 0), problem: undefined }, 'a chain may start mid-way when older files are gone');
  const dropped = [inputs[0]!, ...inputs.slice(2)];
  t.match(verifyLines(dropped).problem, { message: /removed/ }, 'a missing middle file is a gap');

  const other = await mkdtemp(join(tmpdir(), 'portcullis-audit-'));
  t.teardown(() => rm(other, { recursive: true, force: true }));
  const a = await lines(await writeEvents(other, 5, { instance: 'a' }));
  const b = await lines(await writeEvents(join(other, 'b'), 5, { instance: 'b' }));
  const interleaved = a.flatMap((l, i) => [l, b[i] as string]);
  t.same(verify(interleaved), { events: 10, chains: 2, skipped: 0 });
});

t.test('portcullis audit verify exits 0 on an intact file and 1 naming the first bad event', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-audit-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const path = await writeEvents(dir, 5);
  const cli = join(ROOT, 'src', 'cli.ts');
  const ok = await run(process.execPath, ['--import', 'tsx', cli, 'audit', 'verify', path]);
  t.match(ok.stdout, /^OK 5 events in 1 chain\(s\) verified/);
  const ls = await lines(path);
  ls.splice(2, 1);
  await writeFile(path, `${ls.join('\n')}\n`);
  const bad = await run(process.execPath, ['--import', 'tsx', cli, 'audit', 'verify', path]).then(
    () => undefined,
    (err: { code: number; stdout: string }) => err,
  );
  t.equal(bad?.code, 1);
  t.match(bad?.stdout, new RegExp(`^FAIL ${path}:3 decision_id [0-9a-f-]+: removed: seq 3 missing`));
});

t.test('includeInput: false keeps inputs out of the log, the rest of the event stays', async (t) => {
  const lines: string[] = [];
  const sink = { name: 'mem', write: (ls: string[]) => void lines.push(...ls), flush: async () => {}, close: async () => {}, health: () => ({ name: 'mem', healthy: true, buffered: 0, dropped: 0 }) };
  const log = new AuditLog({ sinks: [sink], labels: { id: 'x' }, includeInput: false });
  log.record({ path: 'p', input: { secret: 'value' }, result: true, bundles: {}, metrics: {}, kind: 'authz', decision: 'allow' });
  await log.flush();
  const event = JSON.parse(lines[0] as string);
  t.notOk('input' in event);
  t.match(event, { path: 'p', result: true, decision: 'allow', seq: 1 });
  t.same(verify(lines), { events: 1, chains: 1, skipped: 0 });
});
