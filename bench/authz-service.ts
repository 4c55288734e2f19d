// What bench:authz and bench:authz:profile both measure: the fixture policy as opa-envoy-plugin's users write
// it (test/fixtures/opa-envoy/body.rego) with the test issuer's JWKS, the fixture CheckRequest carrying a
// token that issuer really signed, and Portcullis serving that policy with its audit trail written to a file
// (masked, hash-chained), as in production.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { buildBundle } from '../test/helpers/bundles.js';
import { FIXTURES } from '../test/helpers/paths.js';
import { AUDIENCE, ISSUER, sign, testKey } from '../test/authz/issuer.js';
import { frontDoors, parseConfig, startService } from './shipped.js';

export interface AuthzBench {
  dir: string;
  /** The policy's Rego file, for the reference to load. */
  policyFile: string;
  token: string;
  /** The CheckRequest in protobuf JSON, and the file ghz reads it from. */
  checkRequest: string;
  checkFile: string;
  service: Awaited<ReturnType<typeof startService>>;
  grpcPort: number;
  /** Only when started with the HTTP mode. */
  httpPort?: number;
}

export async function startAuthzBench(name: string, options: { http: boolean }): Promise<AuthzBench> {
  const dir = await mkdtemp(join(tmpdir(), `portcullis-${name}-`));
  const key = await testKey('bench-1');
  const policy = (await readFile(join(FIXTURES, 'opa-envoy', 'body.rego'), 'utf8')).replaceAll('JWKS_OF_THE_TEST_ISSUER', JSON.stringify({ keys: [key.jwk] }));
  const policyFile = join(dir, 'policy.rego');
  await writeFile(policyFile, policy);
  const bundle = join(dir, 'bundle.tar.gz');
  await writeFile(bundle, await buildBundle({ 'envoy/policy.rego': policy }, { entrypoints: ['envoy/authz/result'] }));
  const token = await sign(key, { scope: 'charges:write', exp: Math.floor(Date.now() / 1000) + 3600 });
  const checkRequest = (await readFile(join(FIXTURES, 'authz', 'check-jwt-mtls.json'), 'utf8')).replace('REPLACE_WITH_A_TOKEN_SIGNED_BY_THE_TEST_ISSUER', token);
  const checkFile = join(dir, 'check.json');
  await writeFile(checkFile, checkRequest);
  const config = parseConfig({
    admin: { host: '127.0.0.1', port: 0 },
    tls: { dir: join(dir, 'certs') },
    log: { level: 'warn' },
    admission: { enabled: false },
    audit: { sinks: [{ type: 'file', path: join(dir, 'audit.log'), maxBytes: 256 * 1024 * 1024 }] },
    policy: { bundles: [{ name: 'bench', path: bundle }] },
    authz: {
      entrypoint: 'envoy/authz/result',
      grpc: { host: '127.0.0.1', port: 0 },
      http: options.http ? { host: '127.0.0.1', port: 0 } : { enabled: false },
      jwt: { issuers: [{ issuer: ISSUER, audiences: [AUDIENCE], jwks: { keys: [key.jwk] } }] },
    },
  });
  const service = await startService({ config, log: pino({ level: 'warn' }), stdout: pino.destination({ dest: '/dev/null', sync: true }), frontDoors: frontDoors(config) });
  const port = (listener: string) => service.listeners.find((l) => l.name === listener)?.port;
  const httpPort = port('authz-http');
  return { dir, policyFile, token, checkRequest, checkFile, service, grpcPort: port('authz-grpc') as number, ...(httpPort ? { httpPort } : {}) };
}
