// The Pod Security corpus: for each level and version, a minimal Pod that passes, and per check the
// tweaks of it that pass and that fail, the way k8s.io/pod-security-admission's test/fixtures*.go build
// theirs (written anew here). A case registered at a version applies from that version on; a baseline
// case applies at restricted too. Every object is one the API server accepts (the test API server checks
// each), so the corpus can be sent both to the PodSecurity admission plugin and to Portcullis.
//
// Golden files: test/fixtures/podsecurity/<level>/v1.<n>/{pass,fail}.yaml at every version where something
// changes. `node --import tsx test/podsecurity/corpus.ts --write` regenerates them; the corpus test fails
// while they are stale.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { Document, isCollection, visit } from 'yaml';
import { ROOT } from '../helpers/paths.js';

export type Level = 'baseline' | 'restricted';
export const LEVELS: Level[] = ['baseline', 'restricted'];

/** Versions where a check, a variant or the minimal Pod changes: the corpus is the same in between. */
export const VERSIONS = [0, 8, 19, 22, 23, 25, 27, 29, 31, 32, 34, 35, 37];
export const LATEST = 37;

/** The check a failing case is meant to trip; carried on the object so that a refusal can be matched to it. */
export const CHECK_ANNOTATION = 'pod-security.portcullis.test/check';

const IMAGE = 'registry.example.com/pss/pause:3.10';

export interface Case {
  level: Level;
  minor: number;
  name: string;
  check: string;
  /** The version the case was written for (its generator's): 0 for the minimal Pod. */
  since: number;
  expect: 'pass' | 'fail';
  pod: V1Pod;
}

type Tweak = (p: V1Pod) => void;

interface Generator {
  check: string;
  level: Level;
  since: number;
  /** Where the cases do not hold: a baseline case the restricted Pod cannot carry, or that restricted refuses. */
  skip?: (level: Level, minor: number) => boolean;
  pass: [string, Tweak][];
  fail: [string, Tweak][];
}

const container = (name: string): V1Container => ({ name, image: IMAGE });

/** The minimal Pod a level and version accept: baseline asks nothing; restricted grew over the versions. */
export function minimalPod(level: Level, minor: number): V1Pod {
  const pod: V1Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'base' }, spec: { initContainers: [container('init')], containers: [container('app')] } };
  if (level === 'restricted') {
    const spec = pod.spec!;
    spec.securityContext = { runAsNonRoot: true };
    const all = [...spec.initContainers!, ...spec.containers];
    if (minor >= 8) for (const c of all) c.securityContext = { allowPrivilegeEscalation: false };
    if (minor >= 19) spec.securityContext.seccompProfile = { type: 'RuntimeDefault' };
    if (minor >= 22) for (const c of all) c.securityContext!.capabilities = { drop: ['ALL'] };
  }
  return pod;
}

// Tweak helpers.
const app = (p: V1Pod) => p.spec!.containers[0]!;
const init = (p: V1Pod) => p.spec!.initContainers![0]!;
const sc = (c: V1Container) => (c.securityContext ??= {});
const podSc = (p: V1Pod) => (p.spec!.securityContext ??= {});
const both = (f: (c: V1Container) => void): Tweak => (p) => [init(p), app(p)].forEach(f);
const annotate = (p: V1Pod, key: string, value: string) => ((p.metadata!.annotations ??= {})[key] = value);
const volume = (p: V1Pod, v: Record<string, unknown>) => (p.spec!.volumes ??= []).push({ name: 'v', ...v });
/** A Windows Pod, which may not carry the Linux fields of the restricted Pod: they are taken out. */
const windows: Tweak = (p) => {
  p.spec!.os = { name: 'windows' };
  if (p.spec!.securityContext) delete p.spec!.securityContext.seccompProfile;
  for (const c of [init(p), app(p)]) delete c.securityContext;
};

const GENERATORS: Generator[] = [
  {
    check: 'hostNamespaces', level: 'baseline', since: 0,
    pass: [['false', (p) => Object.assign(p.spec!, { hostNetwork: false, hostPID: false, hostIPC: false })]],
    fail: [['network', (p) => (p.spec!.hostNetwork = true)], ['pid', (p) => (p.spec!.hostPID = true)], ['ipc', (p) => (p.spec!.hostIPC = true)]],
  },
  {
    check: 'privileged', level: 'baseline', since: 0,
    pass: [['false', both((c) => (sc(c).privileged = false))]],
    // The API server refuses privileged with allowPrivilegeEscalation: false, which the restricted Pod sets.
    fail: [
      ['container', (p) => Object.assign(sc(app(p)), { privileged: true, allowPrivilegeEscalation: undefined })],
      ['init', (p) => Object.assign(sc(init(p)), { privileged: true, allowPrivilegeEscalation: undefined })],
    ],
  },
  {
    check: 'capabilities_baseline', level: 'baseline', since: 0,
    // From 1.22 restricted allows adding NET_BIND_SERVICE only.
    skip: (level, minor) => level === 'restricted' && minor >= 22,
    pass: [['default-set', (p) => (sc(app(p)).capabilities = { ...sc(app(p)).capabilities, add: ['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT'] })]],
    fail: [
      ['net-raw', (p) => (sc(app(p)).capabilities = { ...sc(app(p)).capabilities, add: ['NET_RAW'] })],
      ['sys-admin-init', (p) => (sc(init(p)).capabilities = { ...sc(init(p)).capabilities, add: ['SYS_ADMIN'] })],
      ['prefixed', (p) => (sc(app(p)).capabilities = { ...sc(app(p)).capabilities, add: ['CAP_CHOWN'] })],
      ['lower-case', (p) => (sc(app(p)).capabilities = { ...sc(app(p)).capabilities, add: ['chown'] })],
      ['all', (p) => (sc(app(p)).capabilities = { ...sc(app(p)).capabilities, add: ['ALL'] })],
    ],
  },
  {
    check: 'hostPathVolumes', level: 'baseline', since: 0,
    pass: [],
    fail: [['root', (p) => volume(p, { hostPath: { path: '/' } })], ['runtime-socket', (p) => volume(p, { hostPath: { path: '/run/containerd/containerd.sock', type: 'Socket' } })]],
  },
  {
    check: 'hostPorts', level: 'baseline', since: 0,
    pass: [['zero', (p) => (app(p).ports = [{ containerPort: 8080, hostPort: 0 }])], ['none', (p) => (app(p).ports = [{ containerPort: 8080 }])]],
    fail: [
      ['container', (p) => (app(p).ports = [{ containerPort: 8080, hostPort: 8080 }])],
      ['second-port', (p) => (app(p).ports = [{ containerPort: 8080 }, { containerPort: 9090, hostPort: 9090 }])],
      ['init', (p) => (init(p).ports = [{ containerPort: 53, hostPort: 53, protocol: 'UDP' }])],
    ],
  },
  {
    check: 'hostProbesAndHostLifecycle', level: 'baseline', since: 34,
    pass: [
      ['empty-host', (p) => (app(p).livenessProbe = { httpGet: { port: 8080, host: '' } })],
      ['no-host', (p) => Object.assign(app(p), { readinessProbe: { tcpSocket: { port: 8080 } }, lifecycle: { preStop: { httpGet: { port: 8080, path: '/quit' } } } })],
    ],
    fail: [
      ['liveness-http', (p) => (app(p).livenessProbe = { httpGet: { port: 8080, host: '169.254.169.254' } })],
      ['readiness-tcp', (p) => (app(p).readinessProbe = { tcpSocket: { port: 8080, host: '10.0.0.1' } })],
      ['startup-http', (p) => (app(p).startupProbe = { httpGet: { port: 8080, host: 'kubernetes.default' } })],
      ['poststart-http', (p) => (app(p).lifecycle = { postStart: { httpGet: { port: 8080, host: '127.0.0.1' } } })],
      ['prestop-tcp', (p) => (app(p).lifecycle = { preStop: { tcpSocket: { port: 8080, host: 'node' } } })],
    ],
  },
  {
    check: 'appArmorProfile', level: 'baseline', since: 0,
    pass: [
      ['runtime-default', (p) => (sc(app(p)).appArmorProfile = { type: 'RuntimeDefault' })],
      ['localhost', (p) => (podSc(p).appArmorProfile = { type: 'Localhost', localhostProfile: 'k8s-default' })],
      ['annotation-runtime-default', (p) => annotate(p, 'container.apparmor.security.beta.kubernetes.io/app', 'runtime/default')],
      ['annotation-localhost', (p) => annotate(p, 'container.apparmor.security.beta.kubernetes.io/init', 'localhost/k8s-default')],
    ],
    fail: [
      ['pod-unconfined', (p) => (podSc(p).appArmorProfile = { type: 'Unconfined' })],
      ['container-unconfined', (p) => (sc(app(p)).appArmorProfile = { type: 'Unconfined' })],
      ['init-unconfined', (p) => (sc(init(p)).appArmorProfile = { type: 'Unconfined' })],
      ['annotation-unconfined', (p) => annotate(p, 'container.apparmor.security.beta.kubernetes.io/app', 'unconfined')],
    ],
  },
  {
    check: 'seLinuxOptions', level: 'baseline', since: 0,
    pass: [
      ['container-t', (p) => (podSc(p).seLinuxOptions = { type: 'container_t' })],
      ['container-init-t', (p) => (sc(init(p)).seLinuxOptions = { type: 'container_init_t' })],
      ['container-kvm-t', (p) => (sc(app(p)).seLinuxOptions = { type: 'container_kvm_t' })],
      ['level-only', (p) => (sc(app(p)).seLinuxOptions = { level: 's0:c123,c456' })],
    ],
    fail: [
      ['pod-type', (p) => (podSc(p).seLinuxOptions = { type: 'spc_t' })],
      ['container-type', (p) => (sc(app(p)).seLinuxOptions = { type: 'unconfined_t' })],
      ['container-user', (p) => (sc(app(p)).seLinuxOptions = { user: 'system_u' })],
      ['init-role', (p) => (sc(init(p)).seLinuxOptions = { role: 'system_r' })],
      ['engine-t-before-1-31', (p) => (sc(app(p)).seLinuxOptions = { type: 'container_engine_t' })],
    ],
  },
  {
    check: 'seLinuxOptions', level: 'baseline', since: 31,
    pass: [['container-engine-t', (p) => (sc(app(p)).seLinuxOptions = { type: 'container_engine_t' })]],
    fail: [],
  },
  {
    // Unmasked needs its own user namespace (the API server refuses it otherwise), where baseline allows it
    // from 1.35.
    check: 'procMount', level: 'baseline', since: 0,
    pass: [['default', both((c) => (sc(c).procMount = 'Default'))]],
    fail: [['unmasked-before-1-35', (p) => ((p.spec!.hostUsers = false), (sc(app(p)).procMount = 'Unmasked'))]],
  },
  {
    check: 'procMount', level: 'baseline', since: 35,
    skip: (level) => level === 'restricted',
    pass: [['unmasked-in-user-namespace', (p) => ((p.spec!.hostUsers = false), (sc(init(p)).procMount = 'Unmasked'))]],
    fail: [],
  },
  {
    // The annotations, read up to 1.18. The API server refuses a Pod whose annotation and field disagree,
    // and the restricted Pod sets the field from 1.19.
    check: 'seccompProfile_baseline', level: 'baseline', since: 0,
    skip: (level, minor) => level === 'restricted' && minor >= 19,
    pass: [
      ['annotation-runtime-default', (p) => annotate(p, 'seccomp.security.alpha.kubernetes.io/pod', 'runtime/default')],
      ['annotation-docker-default', (p) => annotate(p, 'container.seccomp.security.alpha.kubernetes.io/app', 'docker/default')],
      ['annotation-localhost', (p) => annotate(p, 'container.seccomp.security.alpha.kubernetes.io/init', 'localhost/profile.json')],
    ],
    fail: [
      ['annotation-pod-unconfined-before-1-19', (p) => annotate(p, 'seccomp.security.alpha.kubernetes.io/pod', 'unconfined')],
      ['annotation-container-unconfined-before-1-19', (p) => annotate(p, 'container.seccomp.security.alpha.kubernetes.io/app', 'unconfined')],
    ],
  },
  {
    check: 'seccompProfile_baseline', level: 'baseline', since: 19,
    pass: [
      ['runtime-default', (p) => (podSc(p).seccompProfile = { type: 'RuntimeDefault' })],
      ['localhost', (p) => (sc(app(p)).seccompProfile = { type: 'Localhost', localhostProfile: 'profile.json' })],
    ],
    fail: [
      ['pod-unconfined', (p) => (podSc(p).seccompProfile = { type: 'Unconfined' })],
      ['container-unconfined', (p) => (sc(app(p)).seccompProfile = { type: 'Unconfined' })],
      ['init-unconfined', (p) => (sc(init(p)).seccompProfile = { type: 'Unconfined' })],
    ],
  },
  {
    check: 'seccompProfile_baseline', level: 'baseline', since: 19,
    skip: (level) => level === 'restricted',
    pass: [['annotation-unconfined-ignored', (p) => annotate(p, 'container.seccomp.security.alpha.kubernetes.io/app', 'unconfined')]],
    fail: [],
  },
  ...sysctlGenerators(),
  {
    check: 'windowsHostProcess', level: 'baseline', since: 0,
    // A Windows Pod cannot carry what restricted asks of Linux Pods from 1.8 until Windows Pods were exempted in 1.25.
    skip: (level, minor) => level === 'restricted' && minor >= 8 && minor < 25,
    pass: [['false', (p) => (windows(p), (podSc(p).windowsOptions = { hostProcess: false }))]],
    fail: [
      ['pod', (p) => (windows(p), (p.spec!.hostNetwork = true), (podSc(p).windowsOptions = { hostProcess: true }))],
      ['containers', (p) => (windows(p), (p.spec!.hostNetwork = true), both((c) => (sc(c).windowsOptions = { hostProcess: true }))(p))],
    ],
  },
  {
    check: 'restrictedVolumes', level: 'restricted', since: 0,
    pass: [
      ['config-map', (p) => volume(p, { configMap: { name: 'c' } })],
      ['csi', (p) => volume(p, { csi: { driver: 'inline.storage.example.com' } })],
      ['downward-api', (p) => volume(p, { downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } })],
      ['empty-dir', (p) => volume(p, { emptyDir: {} })],
      ['ephemeral', (p) => volume(p, { ephemeral: { volumeClaimTemplate: { spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } } } })],
      ['pvc', (p) => volume(p, { persistentVolumeClaim: { claimName: 'data' } })],
      ['projected', (p) => volume(p, { projected: { sources: [{ configMap: { name: 'c' } }, { downwardAPI: { items: [{ path: 'name', fieldRef: { fieldPath: 'metadata.name' } }] } }] } })],
      ['secret', (p) => volume(p, { secret: { secretName: 's' } })],
      ['image', (p) => volume(p, { image: { reference: 'registry.example.com/data:1' } })],
    ],
    fail: [
      ['host-path', (p) => volume(p, { hostPath: { path: '/var/lib' } })],
      ['nfs', (p) => volume(p, { nfs: { server: 'nfs.example.com', path: '/exports' } })],
      ['git-repo', (p) => volume(p, { gitRepo: { repository: 'https://example.com/repo.git' } })],
      ['iscsi', (p) => volume(p, { iscsi: { targetPortal: '10.0.0.1:3260', iqn: 'iqn.2001-04.com.example:storage', lun: 0 } })],
      ['gce-pd', (p) => volume(p, { gcePersistentDisk: { pdName: 'disk' } })],
      ['aws-ebs', (p) => volume(p, { awsElasticBlockStore: { volumeID: 'vol-1' } })],
      ['glusterfs', (p) => volume(p, { glusterfs: { endpoints: 'e', path: 'p' } })],
      ['rbd', (p) => volume(p, { rbd: { monitors: ['10.0.0.1:6789'], image: 'i' } })],
      ['flex-volume', (p) => volume(p, { flexVolume: { driver: 'example/flex' } })],
      ['cinder', (p) => volume(p, { cinder: { volumeID: 'v' } })],
      ['cephfs', (p) => volume(p, { cephfs: { monitors: ['10.0.0.1:6789'] } })],
      ['flocker', (p) => volume(p, { flocker: { datasetName: 'd' } })],
      ['fc', (p) => volume(p, { fc: { wwids: ['w'] } })],
      ['azure-file', (p) => volume(p, { azureFile: { secretName: 's', shareName: 'share' } })],
      ['vsphere', (p) => volume(p, { vsphereVolume: { volumePath: '/vmfs/v' } })],
      ['quobyte', (p) => volume(p, { quobyte: { registry: 'r:7861', volume: 'v' } })],
      ['azure-disk', (p) => volume(p, { azureDisk: { diskName: 'd', diskURI: 'https://example.com/d' } })],
      ['portworx', (p) => volume(p, { portworxVolume: { volumeID: 'v' } })],
      ['photon', (p) => volume(p, { photonPersistentDisk: { pdID: 'p' } })],
      ['scale-io', (p) => volume(p, { scaleIO: { gateway: 'g', system: 's', volumeName: 'v', secretRef: { name: 's' } } })],
      ['storageos', (p) => volume(p, { storageos: { volumeName: 'v' } })],
    ],
  },
  {
    check: 'allowPrivilegeEscalation', level: 'restricted', since: 8,
    pass: [],
    fail: [
      ['container-true', (p) => (sc(app(p)).allowPrivilegeEscalation = true)],
      ['init-true', (p) => (sc(init(p)).allowPrivilegeEscalation = true)],
      ['container-unset', (p) => delete sc(app(p)).allowPrivilegeEscalation],
      ['init-unset', (p) => delete sc(init(p)).allowPrivilegeEscalation],
    ],
  },
  {
    check: 'runAsNonRoot', level: 'restricted', since: 0,
    pass: [['every-container', (p) => ((podSc(p).runAsNonRoot = undefined), both((c) => (sc(c).runAsNonRoot = true))(p))]],
    fail: [
      ['pod-false', (p) => (podSc(p).runAsNonRoot = false)],
      ['unset', (p) => delete podSc(p).runAsNonRoot],
      ['one-container', (p) => ((podSc(p).runAsNonRoot = undefined), (sc(app(p)).runAsNonRoot = true))],
      ['container-false', (p) => (sc(app(p)).runAsNonRoot = false)],
      ['init-false-in-user-namespace-before-1-35', (p) => ((p.spec!.hostUsers = false), (sc(init(p)).runAsNonRoot = false))],
    ],
  },
  {
    check: 'runAsNonRoot', level: 'restricted', since: 35,
    pass: [['false-in-user-namespace', (p) => ((p.spec!.hostUsers = false), (podSc(p).runAsNonRoot = false))]],
    fail: [],
  },
  {
    check: 'runAsUser', level: 'restricted', since: 23,
    pass: [['non-zero', (p) => ((podSc(p).runAsUser = 1000), (sc(app(p)).runAsUser = 1337))]],
    fail: [
      ['pod', (p) => (podSc(p).runAsUser = 0)],
      ['container', (p) => (sc(app(p)).runAsUser = 0)],
      ['init', (p) => (sc(init(p)).runAsUser = 0)],
      ['in-user-namespace-before-1-35', (p) => ((p.spec!.hostUsers = false), (sc(app(p)).runAsUser = 0))],
    ],
  },
  {
    check: 'runAsUser', level: 'restricted', since: 35,
    pass: [['root-in-user-namespace', (p) => ((p.spec!.hostUsers = false), (podSc(p).runAsUser = 0))]],
    fail: [],
  },
  {
    check: 'seccompProfile_restricted', level: 'restricted', since: 19,
    pass: [['every-container', (p) => (delete podSc(p).seccompProfile, both((c) => (sc(c).seccompProfile = { type: 'Localhost', localhostProfile: 'p.json' }))(p))]],
    fail: [
      ['unset', (p) => delete podSc(p).seccompProfile],
      ['one-container', (p) => (delete podSc(p).seccompProfile, (sc(app(p)).seccompProfile = { type: 'RuntimeDefault' }))],
      ['pod-unconfined', (p) => (podSc(p).seccompProfile = { type: 'Unconfined' })],
      ['container-unconfined', (p) => (sc(app(p)).seccompProfile = { type: 'Unconfined' })],
    ],
  },
  {
    check: 'capabilities_restricted', level: 'restricted', since: 22,
    pass: [['net-bind-service', (p) => (sc(app(p)).capabilities = { drop: ['ALL'], add: ['NET_BIND_SERVICE'] })]],
    fail: [
      ['no-drop', (p) => delete sc(app(p)).capabilities],
      ['drop-some', (p) => (sc(init(p)).capabilities = { drop: ['NET_RAW', 'SYS_ADMIN'] })],
      ['drop-lower-case', (p) => (sc(app(p)).capabilities = { drop: ['all'] })],
      ['add-chown', (p) => (sc(app(p)).capabilities = { drop: ['ALL'], add: ['CHOWN'] })],
      ['add-prefixed', (p) => (sc(app(p)).capabilities = { drop: ['ALL'], add: ['CAP_NET_BIND_SERVICE'] })],
    ],
  },
  {
    // Windows Pods are exempt from these from 1.25: before, they fail them.
    check: 'allowPrivilegeEscalation', level: 'restricted', since: 22,
    pass: [],
    fail: [['windows-before-1-25', windows]],
  },
  {
    check: 'allowPrivilegeEscalation', level: 'restricted', since: 25,
    pass: [['windows', windows]],
    fail: [],
  },
  {
    check: 'procMount_restricted', level: 'restricted', since: 35,
    pass: [],
    fail: [['unmasked-in-user-namespace', (p) => ((p.spec!.hostUsers = false), (sc(app(p)).procMount = 'Unmasked'))]],
  },
];

/** Each safe sysctl passes from its version on and fails before it. */
function sysctlGenerators(): Generator[] {
  const safe: [string, number][] = [
    ['kernel.shm_rmid_forced', 0], ['net.ipv4.ip_local_port_range', 0], ['net.ipv4.tcp_syncookies', 0],
    ['net.ipv4.ping_group_range', 0], ['net.ipv4.ip_unprivileged_port_start', 0],
    ['net.ipv4.ip_local_reserved_ports', 27],
    ['net.ipv4.tcp_keepalive_time', 29], ['net.ipv4.tcp_fin_timeout', 29], ['net.ipv4.tcp_keepalive_intvl', 29], ['net.ipv4.tcp_keepalive_probes', 29],
    ['net.ipv4.tcp_rmem', 32], ['net.ipv4.tcp_wmem', 32],
    ['net.ipv4.tcp_slow_start_after_idle', 37], ['net.ipv4.tcp_notsent_lowat', 37],
  ];
  const value: Record<string, string> = { 'net.ipv4.ip_local_port_range': '1024 65535', 'net.ipv4.ping_group_range': '0 2147483647', 'net.ipv4.ip_local_reserved_ports': '8080', 'net.ipv4.tcp_rmem': '4096 87380 6291456', 'net.ipv4.tcp_wmem': '4096 16384 4194304' };
  const set = (name: string): Tweak => (p) => (podSc(p).sysctls = [{ name, value: value[name] ?? '1' }]);
  const versions = [...new Set(safe.map(([, since]) => since))];
  return versions.map((since) => ({
    check: 'sysctls',
    level: 'baseline' as const,
    since,
    pass: safe.filter(([, s]) => s === since).map(([name]) => [name.replaceAll('.', '-').replaceAll('_', '-'), set(name)] as [string, Tweak]),
    // A sysctl that becomes safe later fails until then; an unsafe one always fails.
    fail: since === 0
      ? [['kernel-msgmax', set('kernel.msgmax')] as [string, Tweak], ['unsafe-among-safe', (p: V1Pod) => (podSc(p).sysctls = [{ name: 'kernel.shm_rmid_forced', value: '1' }, { name: 'net.core.somaxconn', value: '1024' }])] as [string, Tweak],
        ...safe.filter(([, s]) => s > 0).map(([name, s]) => [`${name.replaceAll('.', '-').replaceAll('_', '-')}-before-1-${s}`, set(name)] as [string, Tweak])]
      : [],
  }));
}

const kebab = (id: string) => id.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`).replaceAll('_', '-');

/**
 * The cases of a level and version: the minimal Pod, then each generator in force (its level or below, its
 * version or older) applied to a copy of it. A failing case of an older version that the newer one allows
 * (its name says "before-1-N") is left out from that version on.
 */
export function cases(level: Level, minor: number): Case[] {
  const base = minimalPod(level, minor);
  const out: Case[] = [{ level, minor, name: 'base', check: '', since: 0, expect: 'pass', pod: base }];
  for (const g of GENERATORS) {
    if (g.since > minor || (g.level === 'restricted' && level === 'baseline') || g.skip?.(level, minor)) continue;
    for (const [expect, list] of [['pass', g.pass], ['fail', g.fail]] as const) {
      for (const [suffix, tweak] of list) {
        const until = /before-1-(\d+)$/.exec(suffix);
        if (until && minor >= Number(until[1])) continue;
        const pod = structuredClone(base);
        tweak(pod);
        const name = `${kebab(g.check)}-${expect}-${suffix}`;
        pod.metadata = { ...pod.metadata, name };
        if (expect === 'fail') (pod.metadata.annotations ??= {})[CHECK_ANNOTATION] = g.check;
        out.push({ level, minor, name, check: g.check, since: g.since, expect, pod });
      }
    }
  }
  return out;
}

/** The golden files' text for a level and version: {pass, fail} as multi-document YAML, one Pod per case. */
export function goldenFiles(level: Level, minor: number): Record<'pass' | 'fail', string> {
  const all = cases(level, minor);
  const text = (expect: 'pass' | 'fail') =>
    all
      .filter((c) => c.expect === expect)
      .map((c) => compact(c.pod))
      .join('---\n');
  return { pass: text('pass'), fail: text('fail') };
}

/** One Pod as YAML, each container and each object below the spec's own fields on one line. */
function compact(pod: V1Pod): string {
  const doc = new Document(pod, { sortMapEntries: true });
  visit(doc, {
    Collection(_, node, path) {
      if (path.filter((p) => isCollection(p)).length >= 3) node.flow = true;
    },
  });
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

export const GOLDEN_DIR = join(ROOT, 'test', 'fixtures', 'podsecurity');

export function goldenPath(level: Level, minor: number, expect: 'pass' | 'fail'): string {
  return join(GOLDEN_DIR, level, `v1.${minor}`, `${expect}.yaml`);
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.includes('--write')) {
  for (const level of LEVELS) {
    for (const minor of VERSIONS) {
      const files = goldenFiles(level, minor);
      for (const expect of ['pass', 'fail'] as const) {
        mkdirSync(dirname(goldenPath(level, minor, expect)), { recursive: true });
        writeFileSync(goldenPath(level, minor, expect), files[expect]);
      }
    }
  }
  console.error(`wrote ${GOLDEN_DIR}`);
}
