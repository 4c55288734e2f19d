import t from 'tap';
import { Masker } from '../../src/audit/mask.js';
import { decide, type DecideDeps } from '../../src/admission/decide.js';
import type { Injector } from '../../src/admission/injection/injector.js';
import { Snapshot } from '../../src/policy/engine.js';
import { parseConfig } from '../../src/server/config.js';
import { fixture } from './service.js';

const base = await fixture('pod-create-deployment.json');
const bytes = (s: string) => new TextEncoder().encode(s);

t.test('a throw after the uid is known is a denial with the uid, not an exception', async (t) => {
  // A limit far past what the configuration allows lets the nesting through to the audit masker, which runs out
  // of stack: the failure the depth limit prevents, standing for any other.
  const deps: DecideDeps = {
    snapshot: new Snapshot(new Map(), {}),
    injector: { withClaim: (input: unknown) => input } as unknown as Injector,
    namespace: () => null,
    cluster: { name: 'test', trustDomain: 'cluster.local' },
    entrypoints: { validate: 'portcullis/admission/violations', mutate: 'portcullis/admission/patches', patchesActive: 'portcullis/admission/patches_active' },
    dropManagedFields: true,
    maxJsonDepth: 1_000_000,
    limits: { ...parseConfig({}).admission.limits, maxMembers: 1_000_000 },
    masker: new Masker(),
  };
  const n = 50_000;
  const body = bytes(JSON.stringify({ ...base, request: { ...base.request, x: 0 } }).replace('"x":0', `"x":${'['.repeat(n)}${']'.repeat(n)}`));
  for (const webhook of ['validate', 'mutate'] as const) {
    const decision = decide(webhook, body, deps);
    if (decision.kind !== 'decided') throw new Error(`expected a decision, got ${decision.kind}`);
    const { response } = JSON.parse(decision.reply);
    t.equal(response.uid, base.request.uid);
    t.equal(response.allowed, false, `${webhook} fails closed`);
    t.match(response.status, { code: 500, reason: 'InternalError', message: /^Portcullis could not decide, so the request is refused: internal error: Maximum call stack size exceeded/ });
    t.equal(response.auditAnnotations['decision-id'], decision.decisionId);
    t.match(decision.outcome, { decision: 'error', allowed: false, error: /Maximum call stack/ });
    t.equal(decision.request.uid, base.request.uid, 'the audit event has the uid');
    t.equal(decision.input, undefined, 'no input that could not be serialized');
    t.match(decision.internalError, /RangeError/);
  }
});
