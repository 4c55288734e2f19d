// The Dockerfile cannot be built here (no container runtime), so its build steps are run as shell in a scratch
// directory, stage by stage, the way docker would: WORKDIR, ENV, COPY from the context (minus .dockerignore) or
// from an earlier stage, RUN. A stage that is only a base image (Go, Node) is this machine's toolchain. Then the
// final stage's files are started the way the image starts them, as its USER, from a directory that user cannot
// write to (the read-only root filesystem the chart asks for): the service comes up on the bundle inside.
import { execFile, spawn } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { ROOT } from '../helpers/paths.js';

t.setTimeout(1_200_000);
const run = promisify(execFile);

interface Stage {
  name?: string;
  from: string;
  /** Only a base image: its files are this machine's. */
  steps: Array<{ op: string; args: string }>;
}

const text = await readFile(join(ROOT, 'Dockerfile'), 'utf8');
const ignored = (await readFile(join(ROOT, '.dockerignore'), 'utf8')).split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));

/** The Dockerfile's instructions by stage, ARGs substituted. */
function parse(dockerfile: string): Stage[] {
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  const subst = (s: string) => s.replace(/\$\{(\w+)\}/g, (_, k: string) => args[k] ?? '');
  for (const raw of dockerfile.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [, op = '', rest = ''] = /^(\w+)\s+(.*)$/.exec(line) ?? [];
    const upper = op.toUpperCase();
    if (upper === 'ARG') {
      const [k = '', v = ''] = rest.split('=');
      args[k] = v;
    } else if (upper === 'FROM') {
      const [image = '', as, name] = subst(rest).split(/\s+/);
      stages.push({ from: image, ...(as?.toUpperCase() === 'AS' && name ? { name } : {}), steps: [] });
    } else stages.at(-1)?.steps.push({ op: upper, args: subst(rest) });
  }
  return stages;
}

/** Whether .dockerignore leaves a path of the context out: its patterns are relative to the context's root. */
function dockerignored(path: string): boolean {
  return ignored.some((pattern) => {
    const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}(/|$)`);
    return re.test(path);
  });
}

const stages = parse(text);
const scratch = await mkdtemp(join(tmpdir(), 'portcullis-image-'));
t.teardown(() => rm(scratch, { recursive: true, force: true }));
await chmod(scratch, 0o755);
const fsOf = (i: number) => join(scratch, `stage-${i}`);
const at = (i: number, path: string) => join(fsOf(i), path);

t.test('the Dockerfile is what the chart and the security model expect', async (t) => {
  const final = stages.at(-1) as Stage;
  t.ok(stages.every((s) => /:\d/.test(s.from) || stages.some((o) => o.name === s.from)), 'every base image has a pinned version');
  const user = final.steps.filter((s) => s.op === 'USER').at(-1)?.args ?? '';
  t.match(user, /^[1-9][0-9]*:[1-9][0-9]*$/, 'a numeric non-root user (runAsNonRoot can check it)');
  t.same(JSON.parse(final.steps.find((s) => s.op === 'ENTRYPOINT')?.args ?? '[]'), ['node', 'dist/cli.js'], 'exec form: signals reach node');
  for (const name of ['node_modules', 'dist', 'build', '.tools', 'certs', 'x.log']) t.ok(dockerignored(name), `.dockerignore leaves out ${name}`);
  for (const name of ['src/certs/authority.ts', 'policies/portcullis/config/data.json', 'package.json']) t.notOk(dockerignored(name), `and keeps ${name}`);
  const chart = await readFile(join(ROOT, 'charts', 'portcullis', 'values.yaml'), 'utf8');
  t.match(chart, /repository: ghcr\.io\/portcullis\/portcullis/, "the chart's default image is this one");
  t.match(text, /docker build -t ghcr\.io\/portcullis\/portcullis:/, 'as the Dockerfile says to tag it');
});

t.test('the build steps run', async (t) => {
  for (const [i, stage] of stages.entries()) {
    let workdir = '/';
    const env: Record<string, string> = {};
    await mkdir(fsOf(i), { recursive: true });
    for (const { op, args } of stage.steps) {
      const cwd = at(i, workdir);
      switch (op) {
        case 'WORKDIR':
          workdir = posix.resolve(workdir, args);
          await mkdir(at(i, workdir), { recursive: true });
          break;
        case 'ENV': {
          const [k = '', v = ''] = args.split('=');
          env[k] = v.replace('$PATH', process.env.PATH ?? '');
          break;
        }
        case 'COPY': {
          const words = args.split(/\s+/);
          const from = words[0]?.startsWith('--from=') ? (words.shift() as string).slice('--from='.length) : undefined;
          const dest = words.pop() as string;
          const source = from === undefined ? -1 : stages.findIndex((s) => s.name === from);
          if (from !== undefined && (stages[source]?.steps.length ?? 0) === 0) {
            // A base image's files (the Go toolchain): this machine's own, on its PATH.
            t.ok((await run('go', ['version'])).stdout.startsWith('go version go1.26'), `COPY --from=${from}: the Go of this machine stands for ${stages[source]?.from}`);
            break;
          }
          for (const src of words) {
            const origin = from === undefined ? join(ROOT, src) : at(source, src.startsWith('/') ? src : posix.join('/', src));
            const target = dest.endsWith('/') ? join(cwd, dest, posix.basename(src)) : join(cwd, dest);
            t.ok(existsSync(origin), `COPY ${src} exists`);
            await mkdir(dirname(target), { recursive: true });
            await cp(origin, target, { recursive: true, filter: (p) => from !== undefined || !dockerignored(relative(ROOT, p)) });
          }
          break;
        }
        case 'RUN': {
          const started = Date.now();
          const result = await run('bash', ['-ec', args], { cwd, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 }).then(
            () => undefined,
            (err: { stdout?: string; stderr?: string; message: string }) => `${err.message}\n${err.stdout?.slice(-2000) ?? ''}\n${err.stderr?.slice(-2000) ?? ''}`,
          );
          t.equal(result, undefined, `RUN ${args} (${Math.round((Date.now() - started) / 1000)} s)`);
          if (result !== undefined) return;
          break;
        }
      }
    }
  }
  const app = at(stages.length - 1, '/app');
  for (const file of ['package.json', 'dist/cli.js', 'build/bundle.tar.gz', 'node_modules/fastify/package.json']) t.ok(existsSync(join(app, file)), `the image holds ${file}`);
  t.notOk(existsSync(join(app, 'node_modules/typescript')), 'without the build-time dependencies');
  t.notOk(existsSync(join(app, 'src')) || existsSync(join(app, 'policies')), 'nor the sources');
});

t.test("the image's files start the service as its user, writing nothing where they are", async (t) => {
  const final = stages.at(-1) as Stage;
  const app = at(stages.length - 1, '/app');
  t.ok(existsSync(join(app, 'dist/cli.js')), 'built by the previous test');
  const [uid = 0, gid = 0] = (final.steps.filter((s) => s.op === 'USER').at(-1)?.args ?? '').split(':').map(Number);
  for (let dir = app; dir.startsWith(scratch); dir = dirname(dir)) await chmod(dir, 0o755);
  t.equal((await stat(app)).uid, 0, 'owned by root: its user cannot write there');
  const entry = JSON.parse(final.steps.find((s) => s.op === 'ENTRYPOINT')?.args ?? '[]') as string[];
  const command = (extra: string[]) => [process.execPath, ...entry.slice(1), ...extra];
  const env = { PATH: process.env.PATH ?? '', NODE_ENV: 'production', HOME: '/nonexistent' };
  const version = await run(command(['version'])[0] as string, command(['version']).slice(1), { cwd: app, uid, gid, env });
  t.equal(version.stdout.trim(), JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')).version);

  // A writable directory as the chart mounts /tmp; everything else comes from the image.
  const writable = join(scratch, 'tmp');
  await mkdir(writable);
  await chmod(writable, 0o777);
  const config = join(writable, 'config.yaml');
  await writeFile(config, JSON.stringify({ tls: { dir: join(writable, 'certs') }, admin: { host: '127.0.0.1', port: 0 }, admission: { host: '127.0.0.1', port: 0 }, authz: { grpc: { host: '127.0.0.1', port: 0 }, http: { host: '127.0.0.1', port: 0 } }, log: { level: 'info' } }));
  const child = spawn(process.execPath, [...entry.slice(1), 'serve', '--config', config], { cwd: app, uid, gid, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const started = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 120_000);
    child.stdout.on('data', () => output.includes('portcullis started') && (clearTimeout(timer), resolve(true)));
    child.once('exit', () => (clearTimeout(timer), resolve(false)));
  });
  t.ok(started, `the service started: ${started ? '' : output.slice(-2000)}`);
  t.match(output, /"source":"[^"]*\/app\/build\/bundle\.tar\.gz"[^\n]*"msg":"bundle activated"/, 'on the bundle the image holds');
  child.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  t.equal(code, 0, 'and stops cleanly');
});
