import { generateKeyPairSync } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import t, { type Test } from 'tap';
import { readArchive } from '../../src/policy/bundle/archive.js';
import { loadBundle } from '../../src/policy/bundle/bundle.js';
import { DEFAULT_LIMITS, type BundleLimits } from '../../src/policy/bundle/files.js';
import { hashBundleFile } from '../../src/policy/bundle/structured-hash.js';
import type { VerificationConfig } from '../../src/policy/bundle/verify.js';
import { buildBundle, tarGz, untarGz } from '../helpers/bundles.js';

const POLICY = { 'app/p.rego': 'package app\nallow := input.ok == true\n', 'app/data.json': '{"n": 1.50, "list": [1, 2e3], "s": "\\u2028<&>"}' };
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pem = (k: { export(o: object): string | Buffer }, type: 'pkcs8' | 'spki') => k.export({ type, format: 'pem' }).toString();

const keys: VerificationConfig['keys'] = {
  rsa: { algorithm: 'RS256', key: pem(rsa.publicKey, 'spki') },
  ec: { algorithm: 'ES256', key: pem(ec.publicKey, 'spki') },
};

const load = async (archive: Buffer, verification?: VerificationConfig, limits: BundleLimits = DEFAULT_LIMITS) =>
  loadBundle('test', await readArchive('test', archive, limits), { verification });

const rejects = (t: Test, p: Promise<unknown>, reason: RegExp, what: string) => t.rejects(p, { name: 'BundleError', message: reason }, what);

t.test('archive attacks are refused with a reason naming the bundle', async (t) => {
  const manifest = { name: '/.manifest', content: '{"revision":"x","wasm":[{"entrypoint":"a/b","module":"/policy.wasm"}]}' };
  await rejects(t, readArchive('evil', await tarGz([manifest, { name: '../../etc/passwd', content: 'x' }]), DEFAULT_LIMITS), /bundle evil: illegal path.*\.\./, 'dot-dot traversal');
  await rejects(t, readArchive('evil', await tarGz([{ name: 'a/../../x', content: 'x' }]), DEFAULT_LIMITS), /illegal path/, 'traversal in the middle');
  await rejects(t, readArchive('evil', await tarGz([{ name: '//etc/passwd', content: 'x' }]), DEFAULT_LIMITS), /illegal path/, 'absolute path beyond the bundle root');
  await rejects(t, readArchive('evil', await tarGz([{ name: 'C:/windows/x', content: 'x' }]), DEFAULT_LIMITS), /illegal path/, 'drive letter');
  await rejects(t, readArchive('evil', await tarGz([{ name: 'link', type: 'symlink', linkname: '/etc/passwd' }]), DEFAULT_LIMITS), /symlink; only regular files/, 'symlink entry');
  await rejects(t, readArchive('evil', await tarGz([{ name: 'a', content: '1' }, { name: '/a', content: '2' }]), DEFAULT_LIMITS), /duplicate file a/, 'duplicate entries');
  await rejects(t, readArchive('evil', Buffer.from('not gzip at all'), DEFAULT_LIMITS), /not a valid \.tar\.gz/, 'corrupt gzip');
  await rejects(t, readArchive('evil', gzipSync(Buffer.from('this is not a tar archive'.repeat(40))), DEFAULT_LIMITS), /not a valid \.tar\.gz/, 'gzip of garbage');
  const good = await tarGz([manifest]);
  await rejects(t, readArchive('evil', good.subarray(0, good.length - 10), DEFAULT_LIMITS), /not a valid \.tar\.gz/, 'truncated archive');
});

t.test('size limits stop oversized bundles and decompression bombs', async (t) => {
  const limits: BundleLimits = { maxArchiveBytes: 64 * 1024, maxTotalBytes: 256 * 1024, maxFileBytes: 128 * 1024, maxFiles: 5 };
  // 100 MiB of zeros compresses to ~100 KiB of gzip; as a tar member it must stop at the total limit.
  const bomb = await tarGz([{ name: 'data.json', content: Buffer.alloc(300 * 1024) }]);
  await rejects(t, readArchive('bomb', bomb, { ...limits, maxFileBytes: 1024 * 1024 }), /files total more than|inflates to more than/, 'total limit');
  await rejects(t, readArchive('big', bomb, limits), /over the limit of 131072/, 'file limit');
  const pureBomb = gzipSync(Buffer.alloc(50 * 1024 * 1024));
  t.ok(pureBomb.length < limits.maxArchiveBytes, `a ${pureBomb.length}-byte gzip of 50 MiB`);
  await rejects(t, readArchive('bomb', pureBomb, limits), /inflates to more than 262144 bytes/, 'raw gzip bomb stops early');
  await rejects(t, readArchive('huge', Buffer.alloc(limits.maxArchiveBytes + 1), limits), /archive is 65537 bytes, over the limit/, 'archive limit');
  const many = await tarGz(Array.from({ length: 6 }, (_, i) => ({ name: `f${i}`, content: 'x' })));
  await rejects(t, readArchive('many', many, limits), /more than 5 files/, 'file count');
});

t.test('manifest and data are validated', async (t) => {
  const wasm = (await untarGz(await buildBundle(POLICY, { entrypoints: ['app/allow'] }))).find((e) => e.name === '/policy.wasm');
  t.ok(wasm);
  const withManifest = (m: string, extra: Array<{ name: string; content: string }> = []) => tarGz([{ name: '/.manifest', content: m }, wasm!, ...extra]);
  await rejects(t, load(await tarGz([wasm!])), /\.manifest is missing/, 'missing manifest');
  await rejects(t, load(await withManifest('{not json')), /\.manifest is not valid JSON/, 'invalid manifest JSON');
  await rejects(t, load(await withManifest('{"revision": 3, "wasm": []}')), /revision must be a string/, 'wrong revision type');
  await rejects(t, load(await withManifest('{"revision": "r"}')), /lists no wasm entrypoints/, 'no entrypoints');
  await rejects(t, load(await withManifest('{"roots":["x"],"wasm":[{"entrypoint":"app/allow","module":"/policy.wasm"}]}')), /outside the bundle's roots/, 'entrypoint outside roots');
  const m = '{"revision":"r","wasm":[{"entrypoint":"app/allow","module":"/policy.wasm"}]}';
  await rejects(t, load(await withManifest(m, [{ name: '/app/data.json', content: '{"a": ' }])), /app\/data\.json is not valid JSON/, 'invalid data.json');
  await rejects(t, load(await withManifest('{"wasm":[{"entrypoint":"app/allow","module":"/other.wasm"}]}')), /names module other\.wasm, which is not in the bundle/, 'missing module');
  await rejects(t, load(await tarGz([{ name: '/.manifest', content: m }, { name: '/policy.wasm', content: 'not wasm' }])), /policy\.wasm is not valid WebAssembly/, 'invalid wasm');
  const ok = await load(await withManifest(m, [{ name: '/app/data.json', content: '{"a": 1}' }, { name: '/data.yaml', content: 'app:\n  b: 2\n' }]));
  t.same(ok.data, { app: { a: 1, b: 2 } }, 'data.json and data.yaml land at their paths');
});

t.test('structured files hash as OPA hashes them', async (t) => {
  // Agreement with OPA's own digests is proven by the signed-bundle test below (its data.json has 1.50, 2e3 and U+2028).
  const a = hashBundleFile('data.json', Buffer.from('{"b": 1.50, "a": [1, 2e3]}'), 'SHA-256');
  const b = hashBundleFile('data.json', Buffer.from('{"a":[1,2e3],"b":1.50}'), 'SHA-256');
  t.equal(a, b, 'key order and whitespace do not matter');
  t.not(a, hashBundleFile('data.json', Buffer.from('{"a":[1,2000],"b":1.5}'), 'SHA-256'), 'number literals do');
  t.not(hashBundleFile('x.rego', Buffer.from('a '), 'SHA-256'), hashBundleFile('x.rego', Buffer.from('a'), 'SHA-256'), 'other files hash their bytes');
  t.throws(() => hashBundleFile('x', Buffer.from(''), 'CRC32'), /unsupported hashing algorithm/);
});

t.test('signed bundles: RS256 and ES256 accepted, everything else refused', async (t) => {
  const signedRsa = await buildBundle(POLICY, { entrypoints: ['app/allow'], signingKey: pem(rsa.privateKey, 'pkcs8'), keyId: 'rsa' });
  const signedEc = await buildBundle(POLICY, { entrypoints: ['app/allow'], signingKey: pem(ec.privateKey, 'pkcs8'), signingAlg: 'ES256', keyId: 'ec' });
  const unsigned = await buildBundle(POLICY, { entrypoints: ['app/allow'] });

  t.equal((await load(signedRsa, { keys })).manifest.revision, 'test', 'RS256 signature by OPA verifies');
  t.ok(await load(signedEc, { keys }), 'ES256 signature by OPA verifies');
  t.ok(await load(unsigned), 'without a configured key an unsigned bundle loads');
  await rejects(t, load(unsigned, { keys }), /unsigned bundle refused/, 'unsigned refused when a key is configured');
  await rejects(t, load(signedRsa, { keys: { rsa: { algorithm: 'RS256', key: pem(other.publicKey, 'spki') } } }), /signature verification failed/, 'wrong key');
  await rejects(t, load(signedRsa, { keys: { other: keys.rsa! } }), /by key "rsa", which is not configured/, 'unknown key id');
  await rejects(t, load(signedRsa, { keys: { rsa: { ...keys.rsa!, algorithm: 'ES256' } } }), /signature verification failed: signed with RS256/, 'algorithm mismatch');
  await rejects(t, load(signedRsa, { keys, scope: 'prod' }), /scope mismatch/, 'scope mismatch');
  t.ok(await load(signedRsa, { keys: { anything: keys.rsa! }, keyId: 'anything' }), 'a configured keyid wins over the one in the signature');

  const entries = await untarGz(signedRsa);
  t.ok(await load(await tarGz(entries), { keys }), 'a bundle re-packed unchanged still verifies');
  const tamper = async (change: (e: typeof entries) => typeof entries) => tarGz(change(entries.map((e) => ({ ...e }))));
  await rejects(t, load(await tamper((es) => es.map((e) => (e.name === '/data.json' ? { ...e, content: '{"app": {"n": 2}}' } : e))), { keys }), /file data\.json does not match its signed digest/, 'changed data');
  await rejects(t, load(await tamper((es) => [...es, { name: '/extra/data.json', content: '{}' }]), { keys }), /file extra\/data\.json is not covered by the signature/, 'added file');
  await rejects(t, load(await tamper((es) => es.filter((e) => !e.name.endsWith('.rego'))), { keys }), /signed file\(s\) missing from the bundle: .*app\/p\.rego/, 'removed file');
  await rejects(t, load(await tamper((es) => es.map((e) => (e.name === '/.signatures.json' ? { ...e, content: '{"signatures": ["a.b.c"]}' } : e))), { keys }), /malformed JWS|verification failed/, 'garbage JWS');
  await rejects(t, load(await tamper((es) => es.map((e) => (e.name === '/.signatures.json' ? { ...e, content: '[]' } : e))), { keys }), /exactly one JWS/, 'wrong signatures shape');
  t.ok(await load(await tamper((es) => [...es, { name: '/README.md', content: 'x' }]), { keys, excludeFiles: ['*.md'] }), 'excluded files need no signature');
});
