import { VERSION } from '../../server/version.js';

/**
 * The proxy: upstream Envoy, the official image. Its version is pinned here and nowhere else (the chart and
 * docs take it from these defaults); tools/envoy-validate pins the API it is checked against
 * (go-control-plane's envoy module of the same release).
 */
export const ENVOY_IMAGE = 'docker.io/envoyproxy/envoy:v1.40.0';

/**
 * The redirect runs in Istio's proxyv2 image, a public image with a shell and both iptables back ends
 * (nf_tables and legacy); it runs Portcullis' own rules, not Istio's programs.
 */
export const INIT_IMAGE = 'docker.io/istio/proxyv2:1.30.3';

/** Portcullis' own image (this repository's Dockerfile): the node mode's validation container runs its CLI. */
export const PORTCULLIS_IMAGE = `ghcr.io/portcullis/portcullis:${VERSION}`;

/**
 * The embedded sidecar template. Operators replace it with admission.injection.templateFile (same
 * shape) and tune it with values. Container names and image repositories must stay those the policy
 * expects (data.portcullis.config.mesh), or rule sidecar-required refuses every injected Pod.
 *   redirect        init: the init containers that install the traffic redirect (admission.injection.redirect:
 *                   init), node: those that check the node agent installed it (redirect: node); the mode's
 *                   list is put first in the Pod's initContainers, before anything else runs
 *   initContainers  put after the redirect's
 *   containers      the proxy: appended to containers, or (nativeSidecar) placed after the
 *                   initContainers above with restartPolicy: Always
 *   volumes         added to the Pod's volumes
 * Placeholders: values.* | pod.namespace, pod.name, pod.serviceAccount | identity.spiffeId |
 * cluster.name, cluster.trustDomain | proxy.cpu, proxy.memory, proxy.cpuLimit, proxy.memoryLimit,
 * proxy.bootstrap (the Envoy bootstrap as JSON, bootstrap.ts) | traffic.excludeInboundPorts,
 * traffic.excludeOutboundPorts, traffic.includeOutboundIPRanges, traffic.excludeOutboundIPRanges (the
 * per-Pod annotations, else values.traffic), traffic.redirect (the init container's script, redirect.ts),
 * traffic.probe (an address:port the redirect sends to the proxy's outbound port, for the validation
 * container's check), traffic.rulesDigest (the SHA-256 of the rules, redirect.ts).
 */
export const DEFAULT_TEMPLATE = `
redirect:
  init:
  - name: portcullis-init
    image: "{{ values.init.image }}"
    imagePullPolicy: IfNotPresent
    command: [sh, -c]
    args: ["{{ traffic.redirect }}"]
    resources:
      requests: {cpu: 10m, memory: 16Mi}
      limits: {cpu: 100m, memory: 64Mi}
    securityContext:
      # iptables needs root with NET_ADMIN and NET_RAW in the Pod's network namespace, and nothing else.
      runAsUser: 0
      runAsGroup: 0
      runAsNonRoot: false
      privileged: false
      allowPrivilegeEscalation: false
      readOnlyRootFilesystem: true
      capabilities:
        add: [NET_ADMIN, NET_RAW]
        drop: [ALL]
      seccompProfile: {type: RuntimeDefault}
    volumeMounts:
      # iptables' lock file (/run/xtables.lock) on a read-only root filesystem.
      - {name: portcullis-run, mountPath: /run}
  node:
  # The node agent installed the redirect; this checks it works before anything else runs. No privilege at
  # all, and a UID and GID that are not the proxy's, whose connections the redirect lets through.
  - name: portcullis-validation
    image: "{{ values.validation.image }}"
    imagePullPolicy: IfNotPresent
    command: [node, /app/dist/cli.js]
    # --rules-sha256: the rules the node agent installs, so the claim check covers them (see redirect.ts).
    args: [redirect-check, "--port={{ values.proxy.ports.outbound }}", "--target={{ traffic.probe }}", "--timeout-seconds={{ values.validation.timeoutSeconds }}", "--rules-sha256={{ traffic.rulesDigest }}"]
    resources:
      requests: {cpu: 10m, memory: 32Mi}
      limits: {cpu: 200m, memory: 128Mi}
    securityContext:
      runAsUser: "{{ values.validation.uid }}"
      runAsGroup: "{{ values.validation.uid }}"
      runAsNonRoot: true
      privileged: false
      allowPrivilegeEscalation: false
      readOnlyRootFilesystem: true
      capabilities: {drop: [ALL]}
      seccompProfile: {type: RuntimeDefault}
containers:
  - name: portcullis-proxy
    image: "{{ values.proxy.image }}"
    imagePullPolicy: IfNotPresent
    command: [envoy]
    args:
      - --config-yaml
      - "{{ proxy.bootstrap }}"
      - --service-node
      - "$(POD_NAME).$(POD_NAMESPACE)"
      - --service-cluster
      - "{{ pod.serviceAccount }}.{{ pod.namespace }}"
      - --log-level
      - "{{ values.proxy.logLevel }}"
      - --disable-hot-restart
    env:
      - name: POD_NAME
        valueFrom: {fieldRef: {fieldPath: metadata.name}}
      - name: POD_NAMESPACE
        valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
    ports:
      - {name: proxy-health, containerPort: "{{ values.proxy.ports.health }}", protocol: TCP}
      - {name: proxy-metrics, containerPort: "{{ values.proxy.ports.metrics }}", protocol: TCP}
    readinessProbe:
      httpGet: {path: /healthz/ready, port: "{{ values.proxy.ports.health }}"}
      periodSeconds: 2
      failureThreshold: 30
    lifecycle:
      # Endpoints drop the Pod while the proxy still carries what is in flight, then it gets SIGTERM.
      preStop: {sleep: {seconds: "{{ values.proxy.drainSeconds }}"}}
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
      seccompProfile: {type: RuntimeDefault}
    volumeMounts:
      - {name: portcullis-token, mountPath: /var/run/portcullis/token, readOnly: true}
      # The admin interface's socket: this directory is the proxy's alone.
      - {name: portcullis-run, mountPath: /var/run/portcullis/run}
volumes:
  - name: portcullis-token
    projected:
      sources:
        - serviceAccountToken:
            audience: "{{ values.certificates.tokenAudience }}"
            expirationSeconds: 3600
            path: token
  - name: portcullis-run
    emptyDir: {medium: Memory, sizeLimit: 1Mi}
`;

/** Where the template mounts the token and the admin socket (bootstrap.ts reads them there). */
export const TOKEN_FILE = '/var/run/portcullis/token/token';
export const ADMIN_SOCKET = '/var/run/portcullis/run/admin.sock';

/** Values the template reads; admission.injection.values and valuesFile are merged over them. */
export const DEFAULT_VALUES = {
  proxy: {
    image: ENVOY_IMAGE,
    uid: 1337,
    logLevel: 'info',
    drainSeconds: 5,
    ports: { inbound: 15006, outbound: 15001, health: 15021, metrics: 15090 },
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '2', memory: '1Gi' } },
  },
  init: { image: INIT_IMAGE },
  /**
   * The node mode's check (admission.injection.redirect: node): Portcullis' own image, a UID and GID that are
   * not the proxy's, and how long it waits for the node agent's redirect before it fails (and the kubelet retries).
   */
  validation: { image: PORTCULLIS_IMAGE, uid: 65532, timeoutSeconds: 60 },
  authz: { address: 'portcullis.portcullis-system.svc:9191', timeout: '0.5s' },
  /** caBundle: the PEM the proxy checks the SDS server against; empty means the mesh trust bundle Portcullis keeps. */
  sds: { address: 'portcullis.portcullis-system.svc:15012', caBundle: '' },
  certificates: { tokenAudience: 'portcullis' },
  /**
   * In-mesh destinations, which the proxy reaches in mutual TLS: HTTP to a cluster-local name (a short name,
   * *.svc, *.svc.<clusterDomain>, or one of hostSuffixes), and anything to the cidrs (pod and Service ranges).
   */
  mesh: { clusterDomain: 'cluster.local', hostSuffixes: [] as string[], cidrs: [] as string[] },
  traffic: { excludeInboundPorts: '', excludeOutboundPorts: '', includeOutboundIPRanges: '*', excludeOutboundIPRanges: '' },
};
