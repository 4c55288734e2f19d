// policies/portcullis/istio/data.json is generated from the istio.io/api release pinned in
// tools/istio-api/go.mod (scripts/istio-schema.mjs): a stale file would judge Istio objects against other
// schemas than the ones documented.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { ROOT } from '../helpers/paths.js';

const run = promisify(execFile);

t.test('the Istio schemas are what the pinned istio.io/api release gives', async (t) => {
  const { stderr } = await run(process.execPath, [join(ROOT, 'scripts', 'istio-schema.mjs'), '--check'], { cwd: ROOT });
  t.match(stderr, /is current/);
  const pin = /^require istio\.io\/api (\S+)$/m.exec(await readFile(join(ROOT, 'tools', 'istio-api', 'go.mod'), 'utf8'))?.[1];
  const data = JSON.parse(await readFile(join(ROOT, 'policies', 'portcullis', 'istio', 'data.json'), 'utf8'));
  t.equal(data.source, `istio.io/api ${pin}`);
  t.same(Object.keys(data.kinds).sort(), [
    'extensions.istio.io/TrafficExtension',
    'extensions.istio.io/WasmPlugin',
    'networking.istio.io/DestinationRule',
    'networking.istio.io/EnvoyFilter',
    'networking.istio.io/ProxyConfig',
    'security.istio.io/AuthorizationPolicy',
    'security.istio.io/PeerAuthentication',
    'security.istio.io/RequestAuthentication',
  ]);
  // Istio reads these under both names; the policy must know both.
  t.match(data.kinds['security.istio.io/PeerAuthentication'].nodes.spec.f, { portLevelMtls: 'portLevelMtls', port_level_mtls: 'portLevelMtls' });
  t.same(data.kinds['security.istio.io/PeerAuthentication'].nodes['spec.mtls.mode'].e, { UNSET: 0, DISABLE: 1, PERMISSIVE: 2, STRICT: 3 });
  t.match(data.kinds['security.istio.io/RequestAuthentication'].nodes['spec.jwtRules.[]'].f, { jwksUri: 'jwksUri', jwks_uri: 'jwksUri' });
});
