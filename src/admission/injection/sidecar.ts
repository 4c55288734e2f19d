import { createHash } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { isObject, mergeData, type DataObject } from '../../policy/data.js';
import { quantityValue, type Overrides } from './annotations.js';
import { spiffeId } from '../../certs/workload.js';
import { schemaValidator } from '../../schema/validator.js';
import { envoyBootstrap } from './bootstrap.js';
import { ADMIN_SOCKET, DEFAULT_TEMPLATE, DEFAULT_VALUES, TOKEN_FILE } from './defaults.js';
import { probeTarget, redirectScript, rulesDigest, type RedirectOptions } from './redirect.js';
import { compileTemplate, placeholderPaths, TemplateError, type Context } from './template.js';

export interface NamedItem {
  name: string;
  [key: string]: unknown;
}

/** What the template renders to for one Pod. */
export interface Sidecar {
  initContainers: NamedItem[];
  containers: NamedItem[];
  volumes: NamedItem[];
  /** The Envoy bootstrap (JSON) rendered into it: the policy is not shown it once the sidecar is confirmed (policy-view.ts). */
  bootstrap: string;
}

export interface PodFacts {
  namespace: string;
  name: string;
  serviceAccount: string;
  cluster: { name: string; trustDomain: string };
  overrides: Overrides;
  /** The mesh trust bundle (PEM): what the proxy checks the SDS server's certificate against. */
  trustBundle: string;
}

const NamedList = { type: 'array', items: { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1 } } } };
/** Who installs the traffic redirect (admission.injection.redirect): the template's redirect.init or redirect.node containers. */
export type RedirectMode = 'init' | 'node';

const validateRendered = schemaValidator<Record<string, unknown>>({
  type: 'object',
  required: ['containers'],
  properties: {
    redirect: { type: 'object', properties: { init: NamedList, node: NamedList }, additionalProperties: false },
    initContainers: NamedList,
    containers: { ...NamedList, minItems: 1 },
    volumes: NamedList,
  },
  additionalProperties: false,
});

/**
 * A loaded template with its values: renders the sidecar of a Pod. Loading renders a sample Pod so that
 * an unknown placeholder or a wrong shape stops the load, not an admission request.
 */
export class SidecarTemplate {
  /** Short hash of template and values, recorded in the status annotation. */
  readonly revision: string;
  private readonly render: (ctx: Context) => unknown;
  private readonly rendered = new Map<string, Sidecar>();
  /** Whether the template reads the Pod's own name: the default one does not, so every Pod of a workload renders alike. */
  private readonly readsPodName: boolean;

  private constructor(
    doc: unknown,
    readonly values: DataObject,
    readonly mode: RedirectMode,
  ) {
    this.render = compileTemplate(doc);
    this.readsPodName = [...placeholderPaths(doc)].some((p) => p === 'pod' || p === 'pod.name' || p.startsWith('pod.name.'));
    // The mode decides which containers a Pod gets: a Pod injected in the other mode is not this template's.
    this.revision = createHash('sha256')
      .update(JSON.stringify(mode === 'init' ? [doc, values] : [doc, values, mode]))
      .digest('hex')
      .slice(0, 12);
  }

  /** Parses the YAML template (the embedded one when undefined) and merges the values over the defaults. */
  static load(templateText: string | undefined, values: DataObject[], mode: RedirectMode = 'init'): SidecarTemplate {
    let doc: unknown;
    try {
      doc = parseYaml(templateText ?? DEFAULT_TEMPLATE);
    } catch (err) {
      throw new TemplateError(`the template is not valid YAML: ${(err as Error).message}`);
    }
    if (!isObject(doc)) throw new TemplateError('the template must be a YAML mapping with containers, initContainers and volumes');
    const merged = values.reduce<DataObject>((acc, v) => mergeData(acc, v), DEFAULT_VALUES);
    const template = new SidecarTemplate(doc, merged, mode);
    if (mode === 'node') {
      const redirect = doc.redirect;
      if (!isObject(redirect) || !Array.isArray(redirect.node) || redirect.node.length === 0) {
        throw new TemplateError('admission.injection.redirect is node but the template has no redirect.node init container to check the redirect');
      }
      if (integer(merged, ['validation', 'uid']) === integer(merged, ['proxy', 'uid'])) {
        throw new TemplateError("values.validation.uid must not be the proxy's (values.proxy.uid): the redirect lets the proxy's connections through, so the check would prove nothing");
      }
    }
    template.sidecar({ namespace: 'sample', name: 'sample', serviceAccount: 'sample', cluster: { name: 'sample', trustDomain: 'sample.local' }, overrides: {}, trustBundle: 'sample' });
    return template;
  }

  /**
   * The sidecar of a Pod. The Pods of one workload share everything the template reads (namespace, service
   * account, annotations; the name only when a template uses it: a StatefulSet's Pods each have their
   * own), so each rendering is kept for the next one: the Envoy bootstrap alone is most of an injection's
   * CPU, and the mutating and validating webhooks render the same Pod. Kept frozen, as every caller only
   * reads or copies it.
   */
  sidecar(pod: PodFacts): Sidecar {
    const key = `${JSON.stringify([pod.namespace, this.readsPodName ? pod.name : '', pod.serviceAccount, pod.cluster, pod.overrides])}\n${pod.trustBundle}`;
    const known = this.rendered.get(key);
    if (known) return known;
    const sidecar = deepFreeze(this.renderSidecar(pod));
    if (this.rendered.size >= RENDERED_KEPT) this.rendered.delete(this.rendered.keys().next().value as string);
    this.rendered.set(key, sidecar);
    return sidecar;
  }

  private renderSidecar(pod: PodFacts): Sidecar {
    const context = this.context(pod);
    const rendered = this.render(context);
    if (!validateRendered(rendered)) {
      const e = validateRendered.errors?.[0];
      throw new TemplateError(`the rendered template is not a sidecar: ${e?.instancePath || '(root)'} ${e?.message ?? ''}`);
    }
    const r = rendered as Partial<Sidecar> & { redirect?: Partial<Record<RedirectMode, NamedItem[]>> };
    return {
      initContainers: [...(r.redirect?.[this.mode] ?? []), ...(r.initContainers ?? [])],
      containers: r.containers ?? [],
      volumes: r.volumes ?? [],
      bootstrap: (context.proxy as { bootstrap: string }).bootstrap,
    };
  }

  /** The redirect a Pod gets (redirect.ts): what the init container or the node agent installs. */
  redirectOptions(pod: PodFacts): RedirectOptions {
    const v = this.values;
    const uid = integer(v, ['proxy', 'uid']);
    const o = pod.overrides;
    const traffic = (key: keyof Overrides) => o[key] ?? text(v, ['traffic', key]) ?? '';
    return {
      proxyUid: uid,
      proxyGid: uid,
      inboundPort: port(v, 'inbound'),
      outboundPort: port(v, 'outbound'),
      proxyPorts: [port(v, 'health'), port(v, 'metrics')],
      excludeInboundPorts: traffic('excludeInboundPorts'),
      excludeOutboundPorts: traffic('excludeOutboundPorts'),
      includeOutboundIPRanges: traffic('includeOutboundIPRanges'),
      excludeOutboundIPRanges: traffic('excludeOutboundIPRanges'),
    };
  }

  private context(pod: PodFacts): Context {
    const o = pod.overrides;
    const v = this.values;
    const cpu = o.cpu ?? text(v, ['proxy', 'resources', 'requests', 'cpu']);
    const memory = o.memory ?? text(v, ['proxy', 'resources', 'requests', 'memory']);
    const redirectOptions = this.redirectOptions(pod);
    const { excludeInboundPorts, excludeOutboundPorts, includeOutboundIPRanges, excludeOutboundIPRanges } = redirectOptions;
    const traffic = { excludeInboundPorts, excludeOutboundPorts, includeOutboundIPRanges, excludeOutboundIPRanges };
    const identity = spiffeId(pod.cluster.trustDomain, pod.namespace, pod.serviceAccount);
    const ports = { inbound: port(v, 'inbound'), outbound: port(v, 'outbound'), health: port(v, 'health'), metrics: port(v, 'metrics') };
    let bootstrap: string;
    let redirect: string;
    let probe: string | null = null;
    let digest: string;
    try {
      bootstrap = JSON.stringify(
        envoyBootstrap({
          spiffeId: identity,
          trustDomain: pod.cluster.trustDomain,
          namespace: pod.namespace,
          serviceAccount: pod.serviceAccount,
          ports,
          adminSocket: ADMIN_SOCKET,
          authz: { address: text(v, ['authz', 'address']) ?? '', timeout: text(v, ['authz', 'timeout']) ?? '0.5s' },
          sds: { address: text(v, ['sds', 'address']) ?? '', tokenFile: TOKEN_FILE, caBundle: text(v, ['sds', 'caBundle']) || pod.trustBundle },
          mesh: { clusterDomain: text(v, ['mesh', 'clusterDomain']) ?? 'cluster.local', hostSuffixes: strings(v, ['mesh', 'hostSuffixes']), cidrs: strings(v, ['mesh', 'cidrs']) },
        }),
      );
      redirect = redirectScript(redirectOptions);
      digest = rulesDigest(redirectOptions);
      if (this.mode === 'node') {
        probe = probeTarget(redirectOptions) ?? null;
        if (probe === null) throw new Error('the traffic annotations leave no outbound TCP redirected, so the validation container could not check the redirect');
      }
    } catch (err) {
      throw new TemplateError(`the proxy's configuration cannot be rendered: ${(err as Error).message}`);
    }
    return {
      values: v,
      pod: { namespace: pod.namespace, name: pod.name, serviceAccount: pod.serviceAccount },
      identity: { spiffeId: identity },
      cluster: pod.cluster,
      proxy: {
        cpu: cpu ?? null,
        memory: memory ?? null,
        // A request above the limit would make the API server refuse the Pod: the limit follows the request.
        cpuLimit: atLeast(text(v, ['proxy', 'resources', 'limits', 'cpu']), cpu),
        memoryLimit: atLeast(text(v, ['proxy', 'resources', 'limits', 'memory']), memory),
        bootstrap,
      },
      traffic: { ...traffic, redirect, probe, rulesDigest: digest },
    };
  }
}

function port(values: DataObject, name: string): number {
  const p = integer(values, ['proxy', 'ports', name]);
  if (p < 1 || p > 65535) throw new TemplateError(`values.proxy.ports.${name} must be a port (1-65535)`);
  return p;
}

function integer(values: DataObject, path: string[]): number {
  const n = Number(text(values, path));
  if (!Number.isInteger(n)) throw new TemplateError(`values.${path.join('.')} must be an integer`);
  return n;
}

function strings(values: DataObject, path: string[]): string[] {
  let node: unknown = values;
  for (const key of path) node = isObject(node) ? node[key] : undefined;
  if (node === undefined || node === null) return [];
  if (!Array.isArray(node) || !node.every((s) => typeof s === 'string')) throw new TemplateError(`values.${path.join('.')} must be a list of strings`);
  return node;
}

/** Renderings kept per template, oldest dropped first: more than the workloads one replica sees at once. */
const RENDERED_KEPT = 1000;

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function text(values: DataObject, path: string[]): string | undefined {
  let node: unknown = values;
  for (const key of path) node = isObject(node) ? node[key] : undefined;
  return typeof node === 'string' || typeof node === 'number' ? String(node) : undefined;
}

function atLeast(limit: string | undefined, request: string | undefined): string | null {
  if (limit === undefined) return null;
  if (request !== undefined && quantityValue(request) > quantityValue(limit)) return request;
  return limit;
}
