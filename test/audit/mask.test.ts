import t from 'tap';
import { Masker, REDACTED, scrubTokens } from '../../src/audit/mask.js';

const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ';

t.test('authz inputs: credentials in headers are masked and JWTs blanked on the way out, the original untouched', async (t) => {
  const input = {
    attributes: { request: { http: { headers: { authorization: `Bearer ${JWT}`, cookie: 'session=abc', 'x-trace': 'keep', 'x-token-copy': `t=${JWT}` }, path: '/x' } } },
    mesh: { jwt: { claims: { sub: 'alice' } } },
  };
  const before = JSON.stringify(input);
  const { input: masked, masked: pointers } = new Masker(['/mesh/jwt/claims/sub']).mask(input);
  t.equal(JSON.stringify(input), before, 'the decision input is not changed');
  const headers = (masked as typeof input).attributes.request.http.headers;
  t.equal(headers.authorization, REDACTED);
  t.equal(headers.cookie, REDACTED);
  t.equal(headers['x-trace'], 'keep');
  t.equal((masked as typeof input).mesh.jwt.claims.sub, REDACTED, 'operator masks apply');
  t.ok(pointers.includes('/attributes/request/http/headers/authorization'));
  t.ok(pointers.includes('/mesh/jwt/claims/sub'));
  const line = scrubTokens(JSON.stringify(masked));
  t.notOk(line.includes('eyJ'), 'no token survives serialization');
  t.match(JSON.parse(line).attributes.request.http.headers['x-token-copy'], `t=${REDACTED}`, 'a JWT inside another value is blanked, the JSON stays valid');
});

t.test('admission inputs: Secret data, last-applied annotation and secret-looking env values are masked', async (t) => {
  const secret = { kind: 'Secret', data: { password: 'c2VjcmV0' }, stringData: { token: 'plain' }, metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"data":{"password":"c2VjcmV0"}}' } } };
  const deployment = {
    kind: 'Deployment',
    spec: { template: { spec: { containers: [{ name: 'a', env: [{ name: 'DB_PASSWORD', value: 'hunter2' }, { name: 'MODE', value: 'prod' }, { name: 'API_KEY', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] }] } } },
  };
  const { input, masked } = new Masker().mask({ request: { object: secret, oldObject: deployment } });
  const out = input as { request: { object: typeof secret; oldObject: typeof deployment } };
  t.equal(out.request.object.data as unknown, REDACTED);
  t.equal(out.request.object.stringData as unknown, REDACTED);
  t.equal(out.request.object.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'], REDACTED);
  const env = out.request.oldObject.spec.template.spec.containers[0]!.env;
  t.equal(env[0]!.value, REDACTED);
  t.equal(env[1]!.value, 'prod', 'ordinary values stay');
  t.same(env[2]!.valueFrom, { secretKeyRef: { name: 's', key: 'k' } }, 'references carry no secret and stay');
  t.ok(masked.includes('/request/oldObject/spec/template/spec/containers/0/env/0/value'));
  t.notOk(JSON.stringify(input).includes('hunter2') || JSON.stringify(input).includes('c2VjcmV0'));
});

t.test('mask pointers must be JSON pointers', async (t) => {
  t.throws(() => new Masker(['headers/authorization']), /not a JSON pointer/);
  const { input } = new Masker(['/a~1b/c~0d']).mask({ 'a/b': { 'c~d': 1, e: 2 } });
  t.same(input, { 'a/b': { 'c~d': REDACTED, e: 2 } }, 'escaped segments resolve');
});
