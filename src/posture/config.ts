import { Type, type Static } from 'typebox';

const Requirement = Type.Object(
  {
    key: Type.String({ minLength: 1, description: 'a label key' }),
    operator: Type.Union([Type.Literal('In'), Type.Literal('NotIn'), Type.Literal('Exists'), Type.Literal('DoesNotExist')], { description: 'NotIn and DoesNotExist hold for a namespace without the label' }),
    values: Type.Optional(Type.Array(Type.String(), { description: 'for In and NotIn' })),
  },
  { additionalProperties: false },
);

/** A Kubernetes label selector, as in the webhooks' namespaceSelector. */
export const LabelSelector = Type.Object(
  {
    matchLabels: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'labels a namespace must have, with these values' })),
    matchExpressions: Type.Optional(Type.Array(Requirement, { description: 'requirements that must all hold' })),
  },
  { additionalProperties: false, description: 'only namespaces whose labels match are audited (all when unset)' },
);
export type LabelSelector = Static<typeof LabelSelector>;

/** The posture audit (Kubernetes mode, leader only): existing objects judged by the admission rules, published as reports. */
export const PostureConfig = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: 'audit the existing objects of the kinds the validating webhook judges (Kubernetes mode, on the leader)' }),
    sweepSeconds: Type.Number({ minimum: 10, default: 3600, description: 'a full sweep this often, besides the one after each bundle or data change; watches keep the results current in between' }),
    pageSize: Type.Integer({ minimum: 10, maximum: 5000, default: 500, description: 'objects per list request of a sweep' }),
    sliceMs: Type.Number({
      minimum: 0.1,
      maximum: 100,
      default: 2,
      description: 'a sweep gives the event loop back after this much judging, so webhook reviews and ext_authz checks on the leader wait at most about this long',
    }),
    excludedNamespaces: Type.Array(Type.String(), {
      default: ['kube-system', 'kube-public'],
      description: "namespaces never audited, as the webhooks' namespaceSelector excludes them (Portcullis' own namespace is always excluded)",
    }),
    namespaceSelector: Type.Optional(LabelSelector),
    reports: Type.Object(
      {
        enabled: Type.Boolean({ default: true, description: 'write OpenReports (openreports.io/v1alpha1): a Report per namespace and one ClusterReport; needs their CRDs' }),
        name: Type.String({ default: 'portcullis-posture', pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$', description: 'name of every report Portcullis writes' }),
        maxResults: Type.Integer({
          minimum: 1,
          maximum: 5000,
          default: 500,
          description: 'results per report; beyond it only the summary counts (the most severe results are kept), so no report approaches the etcd object limit',
        }),
        writeDelaySeconds: Type.Number({ minimum: 0, default: 2, description: 'changes are gathered this long before the reports they touch are written' }),
      },
      { default: {}, additionalProperties: false },
    ),
    metricNamespaces: Type.Integer({
      minimum: 0,
      maximum: 10000,
      default: 50,
      description: 'portcullis_posture_violations has a namespace label for the namespaces with the most violations, up to this many; the rest are summed under namespace="(other)"',
    }),
  },
  { default: {}, additionalProperties: false },
);
export type PostureConfig = Static<typeof PostureConfig>;
