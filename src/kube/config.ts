import { Type, type Static } from 'typebox';

/** Kubernetes mode (mode: kubernetes): where the API server is, what this replica is called, what it maintains. */
export const KubernetesConfig = Type.Object(
  {
    kubeconfig: Type.Optional(Type.String({ description: 'a kubeconfig file; in-cluster service account credentials otherwise (KUBECONFIG and ~/.kube/config outside a cluster)' })),
    namespace: Type.Optional(Type.String({ description: 'namespace of the Service, Secret and Leases; POD_NAMESPACE or the service account namespace otherwise' })),
    identity: Type.Optional(Type.String({ description: 'this replica in Leases; POD_NAME or the host name otherwise' })),
    service: Type.String({ default: 'portcullis', description: 'the Service in front of the webhook: the serving certificate covers its DNS names' }),
    clusterDomain: Type.String({ default: 'cluster.local', description: 'DNS suffix of Services, for the serving certificate names' }),
    webhooks: Type.Object(
      {
        mutating: Type.Array(Type.String(), { default: ['portcullis'], description: 'MutatingWebhookConfigurations whose caBundle is kept equal to the trust bundle (tls.mode secret)' }),
        validating: Type.Array(Type.String(), { default: ['portcullis'], description: 'ValidatingWebhookConfigurations, likewise' }),
      },
      { default: {}, additionalProperties: false },
    ),
    leaderElection: Type.Object(
      {
        leaseName: Type.String({ default: 'portcullis-leader', description: 'the Lease (in kubernetes.namespace) the replicas compete for; replica Leases are <leaseName>-replica-<identity>' }),
        leaseDurationSeconds: Type.Number({ minimum: 1, default: 15, description: 'a holder whose record has not changed this long is taken over' }),
        renewDeadlineSeconds: Type.Number({ minimum: 0.5, default: 10, description: 'the leader steps down when it could not renew for this long' }),
        retryPeriodSeconds: Type.Number({ minimum: 0.1, default: 2, description: 'how often candidates try and the leader renews' }),
      },
      { default: {}, additionalProperties: false },
    ),
    informers: Type.Object(
      {
        resyncSeconds: Type.Number({ minimum: 1, default: 300, description: 'full relist this often, besides the watch' }),
        watchTimeoutSeconds: Type.Integer({ minimum: 1, default: 300, description: 'the API server ends each watch after this; a silent watch is dropped after it too' }),
        retrySeconds: Type.Number({ minimum: 0.1, default: 1, description: 'first delay after a failed list or watch, doubled up to 30s' }),
        pageSize: Type.Integer({ minimum: 1, default: 500, description: 'objects per list request' }),
        nodes: Type.Boolean({ default: true, description: "watch Nodes for their topology.kubernetes.io/region label, the region of the Pods on them (needs list/watch on nodes)" }),
      },
      { default: {}, additionalProperties: false },
    ),
    defaultDeny: Type.Object(
      {
        enabled: Type.Boolean({ default: false, description: 'create the default-deny AuthorizationPolicy in every mesh namespace (label portcullis.io/injection=enabled)' }),
        name: Type.String({ default: 'default-deny', description: 'must equal data.portcullis.config.mesh.defaultDenyPolicy.name, which the admission rules protect' }),
        injectionLabel: Type.String({ default: 'portcullis.io/injection', description: 'namespaces with this label set to enabled are mesh namespaces' }),
      },
      { default: {}, additionalProperties: false },
    ),
    startTimeoutSeconds: Type.Number({ minimum: 1, default: 60, description: 'give up starting when the API server cannot be reached for this long' }),
  },
  { default: {}, additionalProperties: false },
);
export type KubernetesConfig = Static<typeof KubernetesConfig>;
