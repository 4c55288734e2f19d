import { VERSION } from '../../server/version.js';

/**
 * The embedded sidecar template. Operators replace it with admission.injection.templateFile (same
 * shape) and tune it with values. Container names and image repositories must stay those the policy
 * expects (data.portcullis.config.mesh), or rule sidecar-required refuses every injected Pod.
 *   initContainers  put first in the Pod's initContainers: traffic redirection, before anything runs
 *   containers      the proxy: appended to containers, or (nativeSidecar) placed after the
 *                   initContainers above with restartPolicy: Always
 *   volumes         added to the Pod's volumes
 * Placeholders: values.* | pod.namespace, pod.name, pod.serviceAccount | identity.spiffeId |
 * cluster.name, cluster.trustDomain | proxy.cpu, proxy.memory, proxy.cpuLimit, proxy.memoryLimit |
 * traffic.excludeInboundPorts, traffic.excludeOutboundPorts, traffic.includeOutboundIPRanges,
 * traffic.excludeOutboundIPRanges (the per-Pod annotations, else values.traffic).
 */
export const DEFAULT_TEMPLATE = `
initContainers:
  - name: portcullis-init
    image: "{{ values.init.image }}"
    imagePullPolicy: IfNotPresent
    args:
      - redirect
      - "--proxy-uid={{ values.proxy.uid }}"
      - "--inbound-port={{ values.proxy.ports.inbound }}"
      - "--outbound-port={{ values.proxy.ports.outbound }}"
      - "--proxy-ports={{ values.proxy.ports.health }},{{ values.proxy.ports.metrics }}"
      - "--exclude-inbound-ports={{ traffic.excludeInboundPorts }}"
      - "--exclude-outbound-ports={{ traffic.excludeOutboundPorts }}"
      - "--include-outbound-ip-ranges={{ traffic.includeOutboundIPRanges }}"
      - "--exclude-outbound-ip-ranges={{ traffic.excludeOutboundIPRanges }}"
    resources:
      requests: {cpu: 10m, memory: 16Mi}
      limits: {cpu: 100m, memory: 64Mi}
    securityContext:
      runAsUser: 0
      runAsGroup: 0
      runAsNonRoot: false
      privileged: false
      allowPrivilegeEscalation: false
      readOnlyRootFilesystem: true
      capabilities:
        add: [NET_ADMIN, NET_RAW]
        drop: [ALL]
containers:
  - name: portcullis-proxy
    image: "{{ values.proxy.image }}"
    imagePullPolicy: IfNotPresent
    args:
      - proxy
      - "--log-level={{ values.proxy.logLevel }}"
    env:
      - {name: PORTCULLIS_SPIFFE_ID, value: "{{ identity.spiffeId }}"}
      - {name: PORTCULLIS_TRUST_DOMAIN, value: "{{ cluster.trustDomain }}"}
      - {name: PORTCULLIS_CLUSTER, value: "{{ cluster.name }}"}
      - {name: PORTCULLIS_AUTHZ_ADDRESS, value: "{{ values.authz.address }}"}
      - {name: PORTCULLIS_CERT_DIR, value: "{{ values.certificates.path }}"}
      - {name: PORTCULLIS_TOKEN_FILE, value: /var/run/portcullis/token/token}
      - name: POD_NAME
        valueFrom: {fieldRef: {fieldPath: metadata.name}}
      - name: POD_NAMESPACE
        valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
      - name: POD_IP
        valueFrom: {fieldRef: {fieldPath: status.podIP}}
    ports:
      - {name: proxy-health, containerPort: "{{ values.proxy.ports.health }}", protocol: TCP}
      - {name: proxy-metrics, containerPort: "{{ values.proxy.ports.metrics }}", protocol: TCP}
    readinessProbe:
      httpGet: {path: /healthz/ready, port: "{{ values.proxy.ports.health }}"}
      periodSeconds: 2
      failureThreshold: 30
    resources:
      requests: {cpu: "{{ proxy.cpu }}", memory: "{{ proxy.memory }}"}
      limits: {cpu: "{{ proxy.cpuLimit }}", memory: "{{ proxy.memoryLimit }}"}
    securityContext:
      runAsUser: "{{ values.proxy.uid }}"
      runAsGroup: "{{ values.proxy.uid }}"
      runAsNonRoot: true
      privileged: false
      allowPrivilegeEscalation: false
      readOnlyRootFilesystem: true
      capabilities: {drop: [ALL]}
    volumeMounts:
      - {name: portcullis-certs, mountPath: "{{ values.certificates.path }}"}
      - {name: portcullis-token, mountPath: /var/run/portcullis/token, readOnly: true}
volumes:
  - name: portcullis-certs
    emptyDir: {medium: Memory}
  - name: portcullis-token
    projected:
      sources:
        - serviceAccountToken:
            audience: "{{ values.certificates.tokenAudience }}"
            expirationSeconds: 3600
            path: token
`;

/** Values the template reads; admission.injection.values and valuesFile are merged over them. */
export const DEFAULT_VALUES = {
  proxy: {
    image: `ghcr.io/portcullis/proxy:${VERSION}`,
    uid: 1337,
    logLevel: 'info',
    ports: { inbound: 15006, outbound: 15001, health: 15021, metrics: 15090 },
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '2', memory: '1Gi' } },
  },
  init: { image: `ghcr.io/portcullis/proxy-init:${VERSION}` },
  authz: { address: 'portcullis.portcullis-system.svc:9191' },
  certificates: { path: '/var/run/portcullis/certs', tokenAudience: 'portcullis' },
  traffic: { excludeInboundPorts: '', excludeOutboundPorts: '', includeOutboundIPRanges: '*', excludeOutboundIPRanges: '' },
};
