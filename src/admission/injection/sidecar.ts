import { createHash } from 'node:crypto';
import { Ajv } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { isObject, mergeData, type DataObject } from '../../policy/data.js';
import { quantityValue, type Overrides } from './annotations.js';
import { DEFAULT_TEMPLATE, DEFAULT_VALUES } from './defaults.js';
import { compileTemplate, TemplateError, type Context } from './template.js';

export interface NamedItem {
  name: string;
  [key: string]: unknown;
}

/** What the template renders to for one Pod. */
export interface Sidecar {
  initContainers: NamedItem[];
  containers: NamedItem[];
  volumes: NamedItem[];
}

export interface PodFacts {
  namespace: string;
  name: string;
  serviceAccount: string;
  cluster: { name: string; trustDomain: string };
  overrides: Overrides;
}

const NamedList = { type: 'array', items: { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1 } } } };
const validateRendered = new Ajv({ strict: false, allErrors: false }).compile({
  type: 'object',
  required: ['containers'],
  properties: { initContainers: NamedList, containers: { ...NamedList, minItems: 1 }, volumes: NamedList },
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

  private constructor(
    doc: unknown,
    readonly values: DataObject,
  ) {
    this.render = compileTemplate(doc);
    this.revision = createHash('sha256').update(JSON.stringify([doc, values])).digest('hex').slice(0, 12);
  }

  /** Parses the YAML template (the embedded one when undefined) and merges the values over the defaults. */
  static load(templateText: string | undefined, values: DataObject[]): SidecarTemplate {
    let doc: unknown;
    try {
      doc = parseYaml(templateText ?? DEFAULT_TEMPLATE);
    } catch (err) {
      throw new TemplateError(`the template is not valid YAML: ${(err as Error).message}`);
    }
    if (!isObject(doc)) throw new TemplateError('the template must be a YAML mapping with containers, initContainers and volumes');
    const merged = values.reduce<DataObject>((acc, v) => mergeData(acc, v), DEFAULT_VALUES);
    const template = new SidecarTemplate(doc, merged);
    template.sidecar({ namespace: 'sample', name: 'sample', serviceAccount: 'sample', cluster: { name: 'sample', trustDomain: 'sample.local' }, overrides: {} });
    return template;
  }

  sidecar(pod: PodFacts): Sidecar {
    const rendered = this.render(this.context(pod));
    if (!validateRendered(rendered)) {
      const e = validateRendered.errors?.[0];
      throw new TemplateError(`the rendered template is not a sidecar: ${e?.instancePath || '(root)'} ${e?.message ?? ''}`);
    }
    const r = rendered as Partial<Sidecar>;
    return { initContainers: r.initContainers ?? [], containers: r.containers ?? [], volumes: r.volumes ?? [] };
  }

  private context(pod: PodFacts): Context {
    const o = pod.overrides;
    const cpu = o.cpu ?? text(this.values, ['proxy', 'resources', 'requests', 'cpu']);
    const memory = o.memory ?? text(this.values, ['proxy', 'resources', 'requests', 'memory']);
    const traffic = (key: keyof Overrides) => o[key] ?? text(this.values, ['traffic', key]) ?? '';
    return {
      values: this.values,
      pod: { namespace: pod.namespace, name: pod.name, serviceAccount: pod.serviceAccount },
      identity: { spiffeId: `spiffe://${pod.cluster.trustDomain}/ns/${pod.namespace}/sa/${pod.serviceAccount}` },
      cluster: pod.cluster,
      proxy: {
        cpu: cpu ?? null,
        memory: memory ?? null,
        // A request above the limit would make the API server refuse the Pod: the limit follows the request.
        cpuLimit: atLeast(text(this.values, ['proxy', 'resources', 'limits', 'cpu']), cpu),
        memoryLimit: atLeast(text(this.values, ['proxy', 'resources', 'limits', 'memory']), memory),
      },
      traffic: {
        excludeInboundPorts: traffic('excludeInboundPorts'),
        excludeOutboundPorts: traffic('excludeOutboundPorts'),
        includeOutboundIPRanges: traffic('includeOutboundIPRanges'),
        excludeOutboundIPRanges: traffic('excludeOutboundIPRanges'),
      },
    };
  }
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
