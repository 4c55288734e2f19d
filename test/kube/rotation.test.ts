// The rotation plan step by step, as a pure function of what the leader observes (no cluster needed):
// renewal, the three phases of a CA rollover, repairs, and the settings that cannot work.
import t from 'tap';
import { createCa, issueServing } from '../../src/certs/authority.js';
import { parseDuration } from '../../src/certs/duration.js';
import { certInfo, sameCert, signedBy } from '../../src/certs/pem.js';
import { initialState, plan, rotationSettings, type Observed, type RotationSettings } from '../../src/certs/rotation.js';
import { decodeState, encodeState, type CertState } from '../../src/certs/state.js';
import { SecretTlsConfig } from '../../src/certs/config.js';
import { parseConfig } from '../../src/server/config.js';

const names = ['portcullis', 'portcullis.ns', 'portcullis.ns.svc', 'portcullis.ns.svc.cluster.local'];
// Long enough that nothing is due by itself while a test runs.
const settings: RotationSettings = { rotationPeriodMs: 3_600_000, earlyRotationMs: 600_000, caRotationPeriodMs: 36_000_000, caEarlyRotationMs: 7_200_000, trustPropagationMs: 2000, holdOldCaMs: 0 };
const seen = (state: CertState, extra: Partial<Observed> = {}): Observed => ({
  now: new Date(),
  names,
  trustPublishedAt: new Date(Date.now() - 10_000),
  servedSerials: [certInfo(state.serving.cert).serial],
  ...extra,
});
const later = (ms: number) => new Date(Date.now() + ms);

t.test('durations as the seed writes them', async (t) => {
  t.equal(parseDuration('24h'), 86_400_000);
  t.equal(parseDuration('4h'), 14_400_000);
  t.equal(parseDuration('1h30m'), 5_400_000);
  t.equal(parseDuration('500ms'), 500);
  t.throws(() => parseDuration('1 day'), /not a duration/);
  t.throws(() => parseConfig({ tls: { secret: { rotationPeriod: '1d' } } }), /rotationPeriod/, 'refused at config validation');
});

t.test('defaults are the seed settings, and windows that cannot work are refused', async (t) => {
  const config = parseConfig({}).tls.secret;
  t.match(config, { rotationPeriod: '24h', earlyRotation: '4h' });
  t.match(rotationSettings(config), { rotationPeriodMs: 86_400_000, earlyRotationMs: 14_400_000 });
  const bad = (over: Partial<SecretTlsConfig>) => () => rotationSettings({ ...config, ...over });
  t.throws(bad({ earlyRotation: '24h' }), /earlyRotation must be shorter than rotationPeriod/);
  t.throws(bad({ caEarlyRotation: '8760h' }), /caEarlyRotation must be shorter than caRotationPeriod/);
  t.throws(bad({ caEarlyRotation: '4h' }), /caEarlyRotation must be longer than earlyRotation \+ trustPropagation/);
  t.match(rotationSettings(config, '24h'), { holdOldCaMs: 86_400_000 }, 'with SDS, the workload certificates\' lifetime');
  t.throws(() => rotationSettings({ ...config, caEarlyRotation: '12h' }, '24h'), /caEarlyRotation must be longer than sds.certificateTtl/);
});

t.test('a fresh state: one CA, trusted, signing a certificate for every name', async (t) => {
  const all = [...names, '127.0.0.1'];
  const state = initialState(settings, all);
  t.equal(state.trust.length, 1);
  t.ok(sameCert(state.trust[0] ?? '', state.signer.cert));
  t.ok(signedBy(state.serving.cert, state.signer.cert));
  t.same(certInfo(state.serving.cert).names.sort(), [...all].sort(), 'DNS names and IP addresses');
  const decoded = decodeState(encodeState(state));
  t.ok(decoded && decoded.serving.cert === state.serving.cert && decoded.signer.key === state.signer.key && sameCert(decoded.trust[0] ?? '', state.trust[0] ?? ''), 'round-trips through Secret data');
  t.equal(decodeState({ 'tls.crt': 'eA==' }), undefined, 'incomplete data is no state');
  const step = plan(state, settings, seen(state, { names: all }));
  t.equal(step.next, undefined, 'nothing due');
  t.equal(step.reason, 'certificates current');
  const due = certInfo(state.serving.cert).notAfter.getTime() - settings.earlyRotationMs;
  t.ok(Math.abs(step.recheckAt.getTime() - due) < 1000, 'looks again when the serving certificate falls due');
});

t.test('the serving certificate is renewed earlyRotation before it expires, by the same CA', async (t) => {
  const state = initialState(settings, names);
  const step = plan(state, settings, seen(state, { now: later(settings.rotationPeriodMs - settings.earlyRotationMs + 1000) }));
  t.equal(step.reason, 'serving certificate renewed before it expires');
  const next = step.next as CertState;
  t.not(certInfo(next.serving.cert).serial, certInfo(state.serving.cert).serial, 'a new certificate');
  t.equal(next.signer, state.signer, 'same CA');
  t.same(next.trust, state.trust, 'same trust bundle: replicas may switch at their own pace');
});

t.test('a serving certificate for other names is reissued', async (t) => {
  const state = initialState(settings, names);
  const step = plan(state, settings, seen(state, { names: [...names, 'extra.example'] }));
  t.equal(step.reason, 'serving certificate reissued for changed names');
  t.ok(certInfo((step.next as CertState).serving.cert).names.includes('extra.example'));
});

t.test('CA rollover in three phases', async (t) => {
  // A CA with less than caEarlyRotation (2h) left, and a serving certificate of its that is not due.
  const ca = createCa('near-its-end', 1.9);
  const state: CertState = { signer: ca, serving: issueServing(ca, { dnsNames: names, validityHours: 1 }), trust: [ca.cert] };
  const now = new Date();

  const one = plan(state, settings, seen(state, { now }));
  t.equal(one.reason, 'CA rollover, phase 1: new CA added to the trust bundle');
  const p1 = one.next as CertState;
  t.equal(p1.trust.length, 2, 'old and new CA trusted');
  t.ok(sameCert(p1.trust[0] ?? '', state.signer.cert) && sameCert(p1.trust[1] ?? '', p1.signer.cert), 'old first, new last');
  t.equal(p1.serving, state.serving, 'still serving the old CA’s certificate');

  const unpublished = plan(p1, settings, seen(p1, { now, trustPublishedAt: undefined }));
  t.equal(unpublished.next, undefined, 'phase 2 waits while the webhooks do not carry both CAs');
  t.ok(unpublished.waiting);
  const fresh = plan(p1, settings, seen(p1, { now, trustPublishedAt: new Date(now.getTime() - 500) }));
  t.equal(fresh.next, undefined, 'and for trustPropagation after they do');
  t.ok(Math.abs(fresh.recheckAt.getTime() - (now.getTime() + 1500)) < 1100, 'looking again when it has passed');

  const two = plan(p1, settings, seen(p1, { now, trustPublishedAt: new Date(now.getTime() - 5000) }));
  t.equal(two.reason, 'CA rollover, phase 2: serving certificate from the new CA');
  const p2 = two.next as CertState;
  t.ok(signedBy(p2.serving.cert, p2.signer.cert), 'signed by the new CA');
  t.equal(p2.trust.length, 2, 'both still trusted');

  const newSerial = certInfo(p2.serving.cert).serial;
  const oldSerial = certInfo(state.serving.cert).serial;
  const lagging = plan(p2, settings, seen(p2, { now, servedSerials: [newSerial, oldSerial] }));
  t.equal(lagging.next, undefined, 'phase 3 waits while a replica serves the old certificate');
  t.match(lagging.reason, /waiting for every replica/);
  t.equal(plan(p2, settings, seen(p2, { now, servedSerials: [] })).next, undefined, 'and when no replica is known');

  const three = plan(p2, settings, seen(p2, { now, servedSerials: [newSerial, newSerial] }));
  t.equal(three.reason, 'CA rollover, phase 3: every replica serves the new certificate; old CA removed');
  t.same((three.next as CertState).trust, [p2.signer.cert]);

  // With workload certificates from the old CA still out there (Portcullis' SDS), phase 3 waits for their lifetime
  // (shorter here than the serving certificate's, so the hold ends before that certificate is due itself).
  const holding = { ...settings, holdOldCaMs: 1_800_000 };
  const held = plan(p2, holding, seen(p2, { now, servedSerials: [newSerial, newSerial] }));
  t.equal(held.next, undefined, 'the old CA is kept');
  t.match(held.reason, /until the workload certificates it signed have expired/);
  const released = plan(p2, holding, seen(p2, { now: new Date(certInfo(p2.signer.cert).notBefore.getTime() + 5 * 60_000 + 1_800_000 + 1000), servedSerials: [newSerial, newSerial] }));
  t.match(released.reason, /phase 3/, 'and dropped once they have expired');
});

t.test('repairs: expired CAs leave the bundle; an expired signer starts over', async (t) => {
  const state = initialState(settings, names);
  const expired = createCa('old', 0.0001);
  await new Promise((r) => setTimeout(r, 400));
  const withExpired = { ...state, trust: [expired.cert, ...state.trust] };
  const step = plan(withExpired, settings, seen(withExpired));
  t.equal(step.reason, 'trust bundle: expired CAs removed, signer added');
  t.same((step.next as CertState).trust, state.trust);

  const missing = { ...state, trust: [createCa('other', 1).cert] };
  t.equal((plan(missing, settings, seen(missing)).next as CertState).trust.length, 2, 'a bundle without the signer gets it');

  const dead = createCa('dead', 0.0001);
  await new Promise((r) => setTimeout(r, 400));
  const gone: CertState = { signer: dead, serving: issueServing(dead, { dnsNames: names, validityHours: 0.0001 }), trust: [dead.cert] };
  const over = plan(gone, settings, seen(gone));
  t.equal(over.reason, 'the CA has expired: new CA and serving certificate');
  t.ok(signedBy((over.next as CertState).serving.cert, (over.next as CertState).signer.cert));
});

t.test('a serving certificate never outlives its CA', async (t) => {
  const short = { ...settings, caRotationPeriodMs: settings.rotationPeriodMs / 2 };
  const state = initialState(short, names);
  t.ok(certInfo(state.serving.cert).notAfter.getTime() <= certInfo(state.signer.cert).notAfter.getTime() + 1000);
});
