// Outside Kubernetes mode there is no cluster to audit: the posture API says so (and where to look instead),
// behind the admin token like the rest of /api/v1.
import t from 'tap';
import { startHarness } from '../admission/service.js';

const h = await startHarness();
t.teardown(() => h.close());

t.test('GET /api/v1/security/posture in standalone mode: 404 with the reason', async (t) => {
  const get = (path: string, token = h.token) => fetch(`http://127.0.0.1:${h.adminPort}/api/v1${path}`, { headers: { authorization: `Bearer ${token}` } });
  const res = await get('/security/posture');
  t.equal(res.status, 404);
  t.match(await res.json(), { error: 'not found', message: /Kubernetes mode only.*portcullis eval/ });
  t.equal((await get('/security/posture/payments')).status, 404);
  t.equal((await get('/security/posture/Not_A_Namespace')).status, 400, 'a namespace name is checked');
  t.equal((await get('/security/posture', 'wrong')).status, 401);
});
