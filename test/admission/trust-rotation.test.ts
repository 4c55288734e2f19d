// A CA rollover under injected Pods. The proxy's bootstrap inlines the mesh trust bundle as it was when the
// Pod was injected; the rollover (src/certs/rotation.ts: [old] → [old, new] → [new]) changes that bundle,
// and the claim check renders the sidecar again to compare. A Pod injected under the old CA must still be
// the injector's own while the old CA is in the bundle (the hold), and no longer after; a Pod whose proxy
// trusts a CA of its author's making never is. Through the real service: the trust bundle set on the TLS
// provider as the Secret source sets it (joinPems of the state's trust), reviews over HTTPS to /mutate and
// /validate (the webhooks), and the posture audit's judge with its own injector following the provider's
// changes, as Kubernetes mode wires it (the judging path eval shares).
import t, { type Test } from 'tap';
import fastJsonPatch from 'fast-json-patch';
import { createCa, issueServing } from '../../src/certs/authority.js';
import { certInfo, joinPems } from '../../src/certs/pem.js';
import { plan, type Observed, type RotationSettings } from '../../src/certs/rotation.js';
import type { CertState } from '../../src/certs/state.js';
import { Injector } from '../../src/admission/injection/injector.js';
import { acceptedTrustBundles } from '../../src/admission/injection/trust-bundles.js';
import type { TlsMaterial } from '../../src/certs/provider.js';
import { auditJudge } from '../../src/server/posture.js';
import { fixture, patchOf, podReview as makePodReview, startHarness } from './service.js';

const h = await startHarness({ namespaces: [{ name: 'payments', labels: { 'portcullis.io/injection': 'enabled' } }] });
t.teardown(() => h.close());
const base = await fixture('pod-create-deployment.json');

const { config, tls, engine } = h.service.ctx;
const quiet = { info: () => {}, error: () => {} };
const auditInjector = new Injector(config.admission.injection, config.cluster, quiet);
await auditInjector.start();
const follow = (m: TlsMaterial) => auditInjector.setTrustBundle(m.ca ?? '');
follow(tls.current());
tls.on('change', follow);
t.teardown(() => {
  tls.off('change', follow);
  auditInjector.stop();
});
const audit = auditJudge(config, auditInjector);
const payments = { name: 'payments', labels: { 'portcullis.io/injection': 'enabled' }, annotations: {} };

const names = ['portcullis.portcullis-system.svc'];
const settings: RotationSettings = { rotationPeriodMs: 3_600_000, earlyRotationMs: 600_000, caRotationPeriodMs: 36_000_000, caEarlyRotationMs: 7_200_000, trustPropagationMs: 2000, holdOldCaMs: 0 };
const observed = (state: CertState, extra: Partial<Observed> = {}): Observed => ({
  now: new Date(),
  names,
  trustPublishedAt: new Date(Date.now() - 10_000),
  servedSerials: [certInfo(state.serving.cert).serial],
  ...extra,
});

/** The mesh trust bundle becomes the state's, as the Secret source hands it to the TLS provider; the serving certificate stays the harness's. */
function trust(state: CertState): void {
  tls.set({ ...tls.current(), ca: joinPems(state.trust) });
}

/** A Pod as the mutating webhook injects it now, as the API server stores it. */
async function injected(name: string) {
  const review = makePodReview(base, 'payments', (pod) => (pod.metadata.name = name));
  const response = (await h.post('/mutate', review)).json.response;
  t.equal(response.allowed, true);
  return fastJsonPatch.applyPatch(structuredClone(review.request.object), patchOf(response) as fastJsonPatch.Operation[], true, false).newDocument as any;
}

/** What the validating webhook answers for the Pod now, and what the posture audit finds. */
async function judged(pod: any) {
  const review = makePodReview(base, 'payments');
  review.request.object = structuredClone(pod);
  const webhook = (await h.post('/validate', review)).json.response;
  const posture = audit(engine.current(), structuredClone(pod), payments);
  return { webhook, posture };
}

const impersonation = /sidecar-impersonation: the Pod carries sidecar.portcullis.io\/status but not the sidecar Portcullis injects for it \("portcullis-proxy" differs in args\)/;

async function accepted(t: Test, pod: any, what: string) {
  const { webhook, posture } = await judged(pod);
  t.equal(webhook.allowed, true, `${what}: the validating webhook confirms the sidecar (${webhook.status?.message ?? ''})`);
  t.equal(posture.allowed, true, `${what}: the posture audit finds nothing (${posture.message ?? ''})`);
}

async function refused(t: Test, pod: any, what: string) {
  const { webhook, posture } = await judged(pod);
  t.equal(webhook.allowed, false, `${what}: refused by the validating webhook`);
  t.match(webhook.status?.message, impersonation, `${what}: as not the injector's sidecar`);
  t.equal(posture.allowed, false, `${what}: a posture finding`);
  t.match(posture.message, impersonation);
}

// One rollover from start to end, each phase's state made by the rotation plan itself.
const ca = createCa('old mesh CA', 1.9);
const start: CertState = { signer: ca, serving: issueServing(ca, { dnsNames: names, validityHours: 1 }), trust: [ca.cert] };
const phase1 = plan(start, settings, observed(start)).next as CertState;
const phase2 = plan(phase1, settings, observed(phase1, { trustPublishedAt: new Date(Date.now() - 5000) })).next as CertState;
const newSerial = certInfo(phase2.serving.cert).serial;
const phase3 = plan(phase2, settings, observed(phase2, { servedSerials: [newSerial] })).next as CertState;

t.test('the rollover the test walks through', async (t) => {
  t.equal(phase1.trust.length, 2, 'phase 1: old and new CA trusted');
  t.equal(phase2.trust.length, 2, 'phase 2: both still trusted, the new one signs');
  t.same(phase3.trust, [phase2.signer.cert], 'phase 3: only the new CA');
  t.not(phase2.signer.cert, ca.cert);
});

t.test('a Pod injected before the rollover stays the injector\'s while the old CA is trusted, and no longer', async (t) => {
  trust(start);
  const before = await injected('before-rollover');
  await accepted(t, before, 'under the CA it was injected with');

  trust(phase1);
  await accepted(t, before, 'phase 1 (old CA still in the bundle)');
  const during = await injected('during-rollover');
  await accepted(t, during, 'a Pod injected in phase 1');

  trust(phase2);
  await accepted(t, before, 'phase 2 (the hold)');
  await accepted(t, during, 'a Pod injected in phase 1, in phase 2');

  trust(phase3);
  await refused(t, before, 'phase 3: its proxy trusts only the CA the mesh dropped');
  const after = await injected('after-rollover');
  await accepted(t, after, 'a Pod injected after the rollover');
  // Its proxy trusts the dropped CA beside the new one: that CA has left the bundle, so it is refused too
  // (created again, it is injected with the bundle of now).
  await refused(t, during, 'phase 3: a Pod injected in phase 1');
});

t.test('a proxy that trusts a CA of its author\'s making is refused in every phase', async (t) => {
  const own = createCa('attacker CA', 1).cert;
  for (const [phase, state] of [['before', start], ['phase 1', phase1], ['phase 2', phase2], ['phase 3', phase3]] as const) {
    // The sidecar exactly as the injector renders it, but under a bundle with the author's CA added, or
    // in place of the mesh's: what someone copying an injected Pod and editing its bootstrap would get.
    const bundles: Array<[string, string[]]> = [
      ['added', [...state.trust, own]],
      ['alone', [own]],
      ['first', [own, ...state.trust]],
    ];
    for (const [how, bundle] of bundles) {
      trust({ ...state, trust: bundle });
      const forged = await injected(`forged-${how}`);
      trust(state);
      await refused(t, forged, `${phase}, the author's CA ${how}`);
    }
  }
});

t.test('the bundles tried: the current one first, then its parts in the CA\'s order, all of them only up to four certificates', async (t) => {
  const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map((n) => createCa(n, 1).cert) as [string, string, string, string, string];
  t.same(acceptedTrustBundles(joinPems([a])), [joinPems([a])]);
  t.same(acceptedTrustBundles(''), [''], 'no bundle (standalone without TLS material): nothing else to try');
  t.same(acceptedTrustBundles(joinPems([a, b])), [joinPems([a, b]), joinPems([a]), joinPems([b])]);
  const three = acceptedTrustBundles(joinPems([a, b, c]));
  t.equal(three.length, 7);
  t.same(three.slice(0, 4), [joinPems([a, b, c]), joinPems([a, b]), joinPems([a, c]), joinPems([a])]);
  t.notOk(three.includes(joinPems([b, a])), 'never in another order than the CA writes them');
  t.same(acceptedTrustBundles(joinPems([a, b, c, d, e])), [joinPems([a, b, c, d, e]), ...[a, b, c, d, e].map((x) => joinPems([x]))]);
});
