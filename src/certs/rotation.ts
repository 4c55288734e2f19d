import { isIP } from 'node:net';
import { createCa, issueServing, type KeyPair } from './authority.js';
import type { SecretTlsConfig } from './config.js';
import { parseDuration } from './duration.js';
import { certInfo, sameCert, signedBy } from './pem.js';
import type { CertState } from './state.js';

/**
 * Rotation of the self-managed certificates, as a pure function of what the leader observes.
 *
 * Serving certificate: lives rotationPeriod, is replaced earlyRotation before it expires (the seed's
 * 24h/4h), by one signed by the same CA; the caBundle does not change, so replicas may switch at their
 * own pace.
 *
 * CA rollover, in two phases so that the API server never meets a certificate it does not trust:
 *  1. caEarlyRotation before the CA expires, a new CA becomes the signer and is appended to the trust
 *     bundle; the serving certificate (signed by the old CA) stays. The leader publishes the bundle
 *     (old + new) into the webhook configurations.
 *  2. Once the webhook configurations have carried that bundle for trustPropagation, a serving
 *     certificate signed by the new CA is issued. Replicas swap to it and report its serial.
 *  3. When every live replica reports the new serial, the old CA leaves the bundle: not before every
 *     workload certificate it signed (sds.certificateTtl) has expired, when Portcullis issues them.
 * Expired CAs always leave the bundle; an expired signer means there is nothing to preserve: start over.
 */
export interface RotationSettings {
  rotationPeriodMs: number;
  earlyRotationMs: number;
  caRotationPeriodMs: number;
  caEarlyRotationMs: number;
  trustPropagationMs: number;
  /** How long after the new CA became the signer the old one stays trusted: the workload certificates' lifetime. */
  holdOldCaMs: number;
}

export function rotationSettings(config: SecretTlsConfig, workloadCertificateTtl?: string): RotationSettings {
  const s = {
    rotationPeriodMs: parseDuration(config.rotationPeriod),
    earlyRotationMs: parseDuration(config.earlyRotation),
    caRotationPeriodMs: parseDuration(config.caRotationPeriod),
    caEarlyRotationMs: parseDuration(config.caEarlyRotation),
    trustPropagationMs: parseDuration(config.trustPropagation),
    holdOldCaMs: workloadCertificateTtl ? parseDuration(workloadCertificateTtl) : 0,
  };
  // Each window must fit in what it is cut from, or the same certificate would be due again at once.
  if (s.earlyRotationMs >= s.rotationPeriodMs) throw new Error('tls.secret.earlyRotation must be shorter than rotationPeriod');
  if (s.caEarlyRotationMs >= s.caRotationPeriodMs) throw new Error('tls.secret.caEarlyRotation must be shorter than caRotationPeriod');
  if (s.caEarlyRotationMs <= s.earlyRotationMs + s.trustPropagationMs) {
    throw new Error('tls.secret.caEarlyRotation must be longer than earlyRotation + trustPropagation, so serving certificates of the old CA last until the new one is trusted');
  }
  if (s.caEarlyRotationMs <= s.holdOldCaMs) {
    throw new Error('tls.secret.caEarlyRotation must be longer than sds.certificateTtl, so the old CA stays trusted until the last workload certificate it signed has expired');
  }
  return s;
}

export interface Observed {
  now: Date;
  /** Names (DNS names or IP addresses) the serving certificate must cover. */
  names: string[];
  /** Since when the webhook configurations carry exactly this state's trust bundle; undefined while they do not. */
  trustPublishedAt: Date | undefined;
  /** Serials the live replicas report serving (one per replica). */
  servedSerials: string[];
}

export interface Plan {
  /** The state to write, when something is due. */
  next?: CertState;
  reason: string;
  /** When to look again if nothing else happens first. */
  recheckAt: Date;
  /** Blocked on others (webhook publication, replicas switching): worth looking again soon. */
  waiting?: boolean;
}

export function initialState(settings: RotationSettings, names: string[], now = new Date()): CertState {
  const signer = newCa(settings, now);
  return { signer, serving: issue(signer, settings, names, now), trust: [signer.cert] };
}

export function plan(state: CertState, settings: RotationSettings, seen: Observed): Plan {
  const now = seen.now.getTime();
  const signer = certInfo(state.signer.cert);
  const serving = certInfo(state.serving.cert);
  const checks: number[] = [serving.notAfter.getTime() - settings.earlyRotationMs, signer.notAfter.getTime() - settings.caEarlyRotationMs];
  const at = (extra: number[] = []) => new Date(Math.max(now + 1000, Math.min(...checks, ...extra)));

  if (signer.notAfter.getTime() <= now) {
    return { next: initialState(settings, seen.names, seen.now), reason: 'the CA has expired: new CA and serving certificate', recheckAt: at() };
  }

  // Expired CAs have nothing left to verify; the signer is always trusted.
  const live = state.trust.filter((pem) => certInfo(pem).notAfter.getTime() > now);
  const trust = live.some((pem) => sameCert(pem, state.signer.cert)) ? live : [...live, state.signer.cert];
  if (trust.length !== state.trust.length) {
    return { next: { ...state, trust }, reason: 'trust bundle: expired CAs removed, signer added', recheckAt: at() };
  }
  checks.push(...trust.map((pem) => certInfo(pem).notAfter.getTime()));

  const rolling = trust.length > 1;
  if (!rolling && signer.notAfter.getTime() - now <= settings.caEarlyRotationMs) {
    const next = newCa(settings, seen.now);
    return { next: { ...state, signer: next, trust: [...trust, next.cert] }, reason: 'CA rollover, phase 1: new CA added to the trust bundle', recheckAt: at() };
  }

  const fromSigner = signedBy(state.serving.cert, state.signer.cert);
  const published = seen.trustPublishedAt !== undefined && seen.trustPublishedAt.getTime() + settings.trustPropagationMs <= now;
  const due =
    !fromSigner
      ? 'CA rollover, phase 2: serving certificate from the new CA'
      : serving.notAfter.getTime() - now <= settings.earlyRotationMs
        ? 'serving certificate renewed before it expires'
        : !sameNames(serving.names, seen.names)
          ? 'serving certificate reissued for changed names'
          : undefined;
  if (due) {
    // A certificate from a CA the API server may not know yet would fail its calls: wait for publication.
    if (!published) {
      const after = seen.trustPublishedAt ? [seen.trustPublishedAt.getTime() + settings.trustPropagationMs] : [];
      return { reason: `${due}: waiting until the trust bundle is published`, recheckAt: at(after), waiting: true };
    }
    return { next: { ...state, serving: issue(state.signer, settings, seen.names, seen.now) }, reason: due, recheckAt: at() };
  }

  if (rolling) {
    const serial = serving.serial;
    // The signer's certificate is backdated five minutes (authority.ts): it became the signer about then.
    const held = signer.notBefore.getTime() + 5 * 60 * 1000 + settings.holdOldCaMs;
    if (settings.holdOldCaMs > 0 && seen.servedSerials.length > 0 && seen.servedSerials.every((s) => s === serial) && now < held) {
      return { reason: 'CA rollover: the old CA stays trusted until the workload certificates it signed have expired', recheckAt: at([held]), waiting: true };
    }
    if (seen.servedSerials.length > 0 && seen.servedSerials.every((s) => s === serial)) {
      return { next: { ...state, trust: [state.signer.cert] }, reason: 'CA rollover, phase 3: every replica serves the new certificate; old CA removed', recheckAt: at() };
    }
    return { reason: `CA rollover: waiting for every replica to serve ${serial}`, recheckAt: at(), waiting: true };
  }
  return { reason: 'certificates current', recheckAt: at() };
}

function newCa(settings: RotationSettings, now: Date): KeyPair {
  return createCa(`portcullis-ca-${now.toISOString().replace(/[-:.]/g, '').slice(0, 15)}`, settings.caRotationPeriodMs / 3_600_000);
}

function issue(signer: KeyPair, settings: RotationSettings, names: string[], now: Date): KeyPair {
  // Never outlive the CA: a certificate whose issuer expired first would fail before its own time.
  const ms = Math.min(settings.rotationPeriodMs, certInfo(signer.cert).notAfter.getTime() - now.getTime());
  return issueServing(signer, { dnsNames: names.filter((n) => !isIP(n)), ipAddresses: names.filter((n) => isIP(n)), validityHours: ms / 3_600_000 });
}

function sameNames(a: string[], b: string[]): boolean {
  return a.length === b.length && [...a].sort().join() === [...b].sort().join();
}
