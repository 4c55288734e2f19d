// The authz section of the configuration: {} is valid and gives the documented defaults; mistakes are refused.
import t from 'tap';
import { parseConfig } from '../../src/server/config.js';

t.test('defaults', async (t) => {
  const { authz } = parseConfig({});
  t.match(authz, {
    enabled: true,
    grpc: { enabled: true, port: 9191, maxMessageBytes: 4 * 1024 * 1024 },
    http: { enabled: true, port: 9192, originalUriHeader: 'x-original-uri', originalMethodHeader: 'x-original-method' },
    entrypoint: 'portcullis/authz/decision',
    failureMode: 'deny',
    jwt: { issuers: [], header: 'authorization', maxTokenBytes: 8192, clockSkewSeconds: 30, cacheSize: 10000 },
    identity: { trustXfcc: false },
    geo: { enabled: true, xffNumTrustedHops: 0, countryRegions: {} },
    rateLimit: { maxBuckets: 100000, idleSeconds: 600 },
  });
  t.strictSame(parseConfig({ authz: { jwt: { issuers: [{ issuer: 'https://i', jwksUri: 'https://i/jwks' }] } } }).authz.jwt.issuers[0], {
    issuer: 'https://i',
    jwksUri: 'https://i/jwks',
    audiences: [],
    algorithms: ['RS256', 'ES256'],
    forwardClaims: {},
  });
});

t.test('mistakes are refused with their path', async (t) => {
  t.throws(() => parseConfig({ authz: { failureMode: 'maybe' } }), /\/authz\/failureMode/);
  t.throws(() => parseConfig({ authz: { jwt: { issuers: [{ issuer: 'https://i', jwksUri: 'http://i/jwks' }] } } }), /\/authz\/jwt\/issuers\/0\/jwksUri/, 'JWKS only over HTTPS');
  t.throws(() => parseConfig({ authz: { jwt: { issuers: [{ issuer: 'https://i', jwks: { keys: [] }, algorithms: ['none'] }] } } }), /\/authz\/jwt\/issuers\/0\/algorithms\/0/, 'none is not an algorithm');
  t.throws(() => parseConfig({ authz: { geo: { xffNumTrustedHops: -1 } } }), /xffNumTrustedHops/);
  t.throws(() => parseConfig({ authz: { grpc: { tls: true } } }), /unknown field "tls"/);
});
