import { unwatchFile, watchFile } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { NamespaceInfo } from '../../facts/facts.js';
import { isObject, type DataObject } from '../../policy/data.js';
import type { InjectionConfig } from '../config.js';
import type { PatchOp } from '../json-patch.js';
import type { PolicyInput } from '../outcome.js';
import type { AdmissionRequest } from '../review.js';
import { readOverrides, type Overrides } from './annotations.js';
import { injectionPatch, type InjectionStatus } from './patch.js';
import { asPod, serviceAccountOf, type Pod } from './pod.js';
import { confirmedPodView } from './policy-view.js';
import { natRules } from './redirect.js';
import { acceptedTrustBundles } from './trust-bundles.js';
import { SidecarTemplate, type PodFacts, type Sidecar } from './sidecar.js';
import { injectionTrigger, neverInjected, STATUS_ANNOTATION } from './trigger.js';
import { parseStatus, verifyInjected } from './verify.js';

export type Injection =
  | { injected: false; reason: string }
  | { injected: true; reason: string; ops: PatchOp[]; status: InjectionStatus }
  /** The Pod asked for something that cannot be honoured (a bad annotation or label): a denial that says why. */
  | { denied: string };

/** What the validating webhook learns about a new Pod's sidecar: input.context.sidecar of the policy. */
export interface SidecarClaim {
  /** True when the Pod holds exactly the sidecar the injector renders for it, where injection is asked for. */
  verified: boolean;
  /** Why it is not, for the policy's message. */
  reason?: string;
  /** The injected containers by list (the proxy is an init container when it is a native sidecar); empty unless verified. */
  initContainers: string[];
  containers: string[];
}

/** A new Pod's claim to carry the sidecar, and the Pod as the validating policy is to judge it. */
export interface Claimed {
  claim: SidecarClaim;
  /** The object itself, or (the sidecar confirmed) a view of it without the proxy's bootstrap text (policy-view.ts). */
  object: unknown;
}

function newPod(request: AdmissionRequest): boolean {
  return request.kind.group === '' && request.kind.kind === 'Pod' && request.operation === 'CREATE' && !request.subResource;
}

interface Logger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * Sidecar injection for new Pods. The template and values files (mounted ConfigMaps) are re-read when they
 * change; one that does not load keeps the previous template, as a bad bundle keeps the last good one.
 */
export class Injector {
  private template: SidecarTemplate | undefined;
  /** The template before the last reload: a Pod injected with it a moment ago can still be checked. */
  private previous: SidecarTemplate | undefined;
  /** The mesh trust bundle the proxies check the SDS server against (the TLS provider's, kept current). */
  private trustBundle = '';
  /** The bundles an injected proxy may carry: the current one first, then its parts (trust-bundles.ts). */
  private acceptedTrust: string[] = [''];

  constructor(
    private readonly config: InjectionConfig,
    private readonly cluster: { name: string; trustDomain: string },
    private readonly log: Logger,
  ) {}

  /** Loads the template; an invalid one stops start-up with the reason. */
  async start(): Promise<void> {
    this.template = await this.load();
    for (const file of this.files()) watchFile(file, { interval: 2000, persistent: false }, () => void this.reload());
  }

  stop(): void {
    for (const file of this.files()) unwatchFile(file);
  }

  /** The mesh trust bundle changed (a CA rollover): Pods injected from now on trust the new one. */
  setTrustBundle(pem: string): void {
    this.trustBundle = pem;
    this.acceptedTrust = acceptedTrustBundles(pem);
  }

  get revision(): string | undefined {
    return this.template?.revision;
  }

  plan(request: AdmissionRequest, object: unknown, namespaceInfo: NamespaceInfo | null): Injection {
    if (!this.config.enabled) return { injected: false, reason: 'injection is disabled (admission.injection.enabled)' };
    if (this.config.provider === 'istio') return { injected: false, reason: "Istio injects the mesh's proxies (admission.injection.provider: istio)" };
    if (!newPod(request)) return { injected: false, reason: 'only new Pods are injected' };
    const pod = asPod(object);
    if (typeof pod === 'string') return { denied: pod };
    const namespace = request.namespace || pod.metadata?.namespace || '';
    const trigger = injectionTrigger(pod, namespace, namespaceInfo, this.config.excludedNamespaces);
    if ('invalid' in trigger) return { denied: trigger.invalid };
    if (!trigger.inject && !('injectedBefore' in trigger)) return { injected: false, reason: trigger.reason };

    const { overrides, problems } = readOverrides(pod.metadata?.annotations);
    if (problems.length > 0) return { denied: `cannot inject the Portcullis sidecar: ${problems.join('; ')}` };
    const template = this.template;
    if (!template) throw new Error('the sidecar template is not loaded');
    const facts = this.facts(pod, namespace, overrides);

    if ('injectedBefore' in trigger) {
      const wrong = this.verify(pod, facts, trigger.injectedBefore, this.acceptedTrust);
      return 'problem' in wrong ? { denied: wrong.problem } : { injected: false, reason: trigger.reason };
    }

    const sidecar = template.sidecar(facts);
    const patch = injectionPatch(pod, sidecar, { nativeSidecar: this.config.nativeSidecar, revision: template.revision });
    if (typeof patch === 'string') return { denied: patch };
    return { injected: true, reason: trigger.reason, ...patch };
  }

  /**
   * For the validating webhook: whether the sidecar a new Pod carries (its status annotation says it was
   * injected) is the one this injector renders for it, where injection was asked for. The mutating webhook
   * checked that too, but other mutating webhooks may have run after it, and injection may be off here; the
   * policy grants the injected containers their exceptions (the init container's capabilities, the proxy's
   * UID, its name and image) only on this answer. Undefined for anything else than a new Pod with the annotation.
   */
  claim(request: AdmissionRequest, object: unknown, namespaceInfo: NamespaceInfo | null): Claimed | undefined {
    // Most Pods carry no status annotation: looked up before the whole Pod is checked.
    const annotations = (object as { metadata?: { annotations?: Record<string, unknown> } } | null)?.metadata?.annotations;
    if (!newPod(request) || typeof annotations?.[STATUS_ANNOTATION] !== 'string') return undefined;
    const value = annotations[STATUS_ANNOTATION] as string;
    const refused = (reason: string): Claimed => ({ claim: { verified: false, reason, initContainers: [], containers: [] }, object });
    // A claim on a Pod the injector cannot read confirms nothing.
    const pod = asPod(object);
    if (typeof pod === 'string') return refused(`the Pod carries ${STATUS_ANNOTATION}, but ${pod.replace(/^the Pod/, 'it')}`);
    if (!this.config.enabled) return refused('injection is disabled here (admission.injection.enabled), so no sidecar is Portcullis\' own');
    if (this.config.provider === 'istio') return refused(`the Pod carries ${STATUS_ANNOTATION}, but Istio injects the mesh's proxies here (admission.injection.provider: istio), not Portcullis`);
    const namespace = request.namespace || pod.metadata?.namespace || '';
    const trigger = injectionTrigger(pod, namespace, namespaceInfo, this.config.excludedNamespaces);
    if ('invalid' in trigger) return refused(trigger.invalid);
    if (!('injectedBefore' in trigger)) return refused(`the Pod carries ${STATUS_ANNOTATION} but is not one Portcullis injects (${trigger.reason})`);
    const { overrides, problems } = readOverrides(pod.metadata?.annotations);
    if (problems.length > 0) return refused(problems.join('; '));
    const verdict = this.verify(pod, this.facts(pod, namespace, overrides), value, this.acceptedTrust);
    if ('problem' in verdict) return refused(verdict.problem);
    const claim: SidecarClaim = { verified: true, initContainers: verdict.status.initContainers, containers: verdict.status.containers };
    return { claim, object: confirmedPodView(object, claim, verdict.sidecar.bootstrap) };
  }

  /** The validating webhook's policy input: a new Pod's sidecar claim checked (claim()), and beside it the object as the policy is to see it. */
  withClaim(input: PolicyInput): PolicyInput {
    const { request, context } = input;
    const claimed = this.claim(request, request.object, context.namespace);
    return claimed ? { request: { ...request, object: claimed.object as AdmissionRequest['object'] }, context: { ...context, sidecar: claimed.claim } } : input;
  }

  /**
   * For the node agent: the redirect rules of a Pod stored on its node, if it holds exactly the node-mode
   * sidecar this injector renders for it. The agent acts as root in the Pod's network namespace, so a
   * status annotation alone (anyone may write one) gets nothing: the whole injected part is compared, as for
   * a new Pod. What the agent cannot know is the mesh trust bundle (it may read Pods only): the one in the
   * Pod's own proxy bootstrap is taken, so that field alone is not checked here (admission checked it).
   */
  nodeRedirect(object: unknown): { rules: { ipv4: string; ipv6: string } } | { refused: string } {
    if (!this.config.enabled || this.config.provider === 'istio') return { refused: 'Portcullis does not inject here (admission.injection)' };
    if (this.config.redirect !== 'node') return { refused: 'the node agent installs nothing unless admission.injection.redirect is node' };
    const pod = asPod(object);
    if (typeof pod === 'string') return { refused: pod };
    const value = pod.metadata?.annotations?.[STATUS_ANNOTATION];
    if (typeof value !== 'string') return { refused: `no ${STATUS_ANNOTATION}: not injected` };
    const namespace = pod.metadata?.namespace ?? '';
    // Never the node's own network (a hostNetwork Pod shares it), nor where the injector never injects.
    const never = neverInjected(pod, namespace, this.config.excludedNamespaces);
    if (never) return { refused: never };
    const { overrides, problems } = readOverrides(pod.metadata?.annotations);
    if (problems.length > 0) return { refused: problems.join('; ') };
    const template = this.template;
    if (!template) throw new Error('the sidecar template is not loaded');
    const facts = { ...this.facts(pod, namespace, overrides), trustBundle: bootstrapTrustBundle(pod) };
    if (facts.trustBundle === '') return { refused: 'the Pod has no proxy bootstrap with an SDS trust bundle' };
    const verdict = this.verify(pod, facts, value, [facts.trustBundle]);
    if ('problem' in verdict) return { refused: verdict.problem };
    const o = template.redirectOptions(facts);
    return { rules: { ipv4: natRules(o, 4), ipv6: natRules(o, 6) } };
  }

  private facts(pod: Pod, namespace: string, overrides: Overrides): PodFacts {
    return { namespace, name: pod.metadata?.name || pod.metadata?.generateName || '', serviceAccount: serviceAccountOf(pod), cluster: this.cluster, overrides, trustBundle: this.trustBundle };
  }

  /**
   * Renders the sidecar with the template the status annotation names (the current one or the previous) and
   * compares, under each of the trust bundles given in turn (the current one first, then its parts: a Pod
   * injected before a CA rollover; the node agent gives the Pod's own), the first difference reported if
   * none matches.
   */
  private verify(pod: Pod, facts: PodFacts, value: string, trustBundles: string[]): { status: InjectionStatus; sidecar: Sidecar } | { problem: string } {
    const template = this.template;
    if (!template) throw new Error('the sidecar template is not loaded');
    const status = parseStatus(value);
    const injectedWith = [template, this.previous].find((t) => t !== undefined && t.revision === status?.template);
    if (!status || !injectedWith) {
      return {
        problem: `the Pod's ${STATUS_ANNOTATION} names sidecar template ${JSON.stringify(status?.template ?? value)}, not one this injector has (${template.revision}): remove the annotation and the sidecar containers so it is injected again`,
      };
    }
    let problem: string | undefined;
    for (const trustBundle of trustBundles) {
      const sidecar = injectedWith.sidecar({ ...facts, trustBundle });
      const wrong = verifyInjected(pod, sidecar, status);
      if (wrong === undefined) return { status, sidecar };
      problem ??= wrong;
    }
    return { problem: problem as string };
  }

  private files(): string[] {
    return [this.config.templateFile, this.config.valuesFile].filter((f): f is string => f !== undefined);
  }

  private async load(): Promise<SidecarTemplate> {
    const text = this.config.templateFile ? await readFile(this.config.templateFile, 'utf8') : undefined;
    const values: DataObject[] = [this.config.values];
    if (this.config.valuesFile) {
      const doc: unknown = parseYaml(await readFile(this.config.valuesFile, 'utf8')) ?? {};
      if (!isObject(doc)) throw new Error(`admission.injection.valuesFile ${this.config.valuesFile}: the document must be a mapping`);
      values.push(doc);
    }
    return SidecarTemplate.load(text, values, this.config.redirect);
  }

  private async reload(): Promise<void> {
    try {
      const next = await this.load();
      if (next.revision === this.template?.revision) return;
      this.previous = this.template;
      this.template = next;
      this.log.info({ revision: this.template.revision }, 'sidecar template reloaded');
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'sidecar template not reloaded; keeping the previous one');
    }
  }
}

/**
 * The CA bundle the Pod's proxy checks the SDS server against, from its bootstrap (--config-yaml), or "".
 * Whatever is taken here is then compared: a bootstrap that differs anywhere else does not verify.
 */
function bootstrapTrustBundle(pod: Pod): string {
  for (const c of [...pod.spec.containers, ...(pod.spec.initContainers ?? [])] as Array<{ args?: unknown }>) {
    const args = Array.isArray(c.args) ? (c.args as unknown[]) : [];
    const bootstrap = args[args.indexOf('--config-yaml') + 1];
    if (args.indexOf('--config-yaml') < 0 || typeof bootstrap !== 'string') continue;
    const found = /"root_certs":\{"inline_string":("(?:[^"\\]|\\.)*")\}/.exec(bootstrap);
    if (!found) return '';
    try {
      return JSON.parse(found[1] as string) as string;
    } catch {
      return '';
    }
  }
  return '';
}
