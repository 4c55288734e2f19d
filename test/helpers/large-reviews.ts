// AdmissionReviews that grow along one dimension each, for the limits benchmark (bench/limits.ts) and the
// tests of the bounds: every shape aims at one way a review can cost more than its size suggests (many
// violations per byte, wide objects compared on UPDATE, long strings echoed in messages, ...).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkLimits, type ReviewLimits } from '../../src/admission/limits.js';
import { parseReview } from '../../src/admission/review.js';
import { FIXTURES } from './paths.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

export interface Shape {
  name: string;
  /** What grows with n. */
  grows: string;
  make(n: number): Json;
}

const podReview = JSON.parse(readFileSync(join(FIXTURES, 'admission', 'pod-create-deployment.json'), 'utf8'));

/** The fixture's compliant Pod (payments namespace, in the mesh), as a fresh copy. */
export function pod(): Json {
  return structuredClone(podReview);
}

const istio = (group: string, kind: string, spec: Json, operation = 'CREATE', oldSpec?: Json): Json => ({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: {
    uid: '5b1f7c2e-limits-0000-0000-000000000000',
    kind: { group, version: 'v1', kind },
    resource: { group, version: 'v1', resource: `${kind.toLowerCase()}s` },
    name: 'large',
    namespace: 'payments',
    operation,
    userInfo: { username: 'alice@example.com', groups: ['system:authenticated'] },
    object: { apiVersion: `${group}/v1`, kind, metadata: { name: 'large', namespace: 'payments' }, spec },
    oldObject: oldSpec === undefined ? null : { apiVersion: `${group}/v1`, kind, metadata: { name: 'large', namespace: 'payments' }, spec: oldSpec },
  },
});

const containerOf = (r: Json) => r.request.object.spec.containers[0];
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** A container that breaks most container rules: privileged, a capability, an unlisted registry, latest. */
const badContainer = (i: number) => ({ name: `c${i}`, image: `evil.example/c${i}:latest`, securityContext: { privileged: true, capabilities: { add: ['SYS_ADMIN'] } } });

/** The same Pod as an UPDATE whose spec is unchanged, so rules compare the whole spec with the old one. */
function unchangedUpdate(r: Json): Json {
  r.request.operation = 'UPDATE';
  r.request.name = 'payment-service-7d9c6b5f4-abcde';
  r.request.object.metadata.name = 'payment-service-7d9c6b5f4-abcde';
  r.request.oldObject = structuredClone(r.request.object);
  r.request.object.metadata.labels.changed = 'yes';
  return r;
}

export const SHAPES: Shape[] = [
  {
    name: 'pod-capabilities',
    grows: 'capabilities.add entries of one container (one violation each)',
    make: (n) => {
      const r = pod();
      containerOf(r).securityContext.capabilities = { add: range(n).map((i) => `CAP_${i}`) };
      return r;
    },
  },
  {
    name: 'pod-bad-containers',
    grows: 'containers, each privileged, adding a capability, from an unlisted registry, tagged latest',
    make: (n) => {
      const r = pod();
      r.request.object.spec.containers = range(n).map(badContainer);
      return r;
    },
  },
  {
    name: 'pod-good-containers',
    grows: "copies of the fixture's compliant container",
    make: (n) => {
      const r = pod();
      const c = containerOf(r);
      r.request.object.spec.containers = range(n).map((i) => ({ ...structuredClone(c), name: `app-${i}` }));
      return r;
    },
  },
  {
    name: 'pod-env',
    grows: 'env entries of one container',
    make: (n) => {
      const r = pod();
      containerOf(r).env = range(n).map((i) => ({ name: `VAR_${i}`, value: `value-${i}` }));
      return r;
    },
  },
  {
    name: 'pod-labels',
    grows: 'Pod labels (keys of one object)',
    make: (n) => {
      const r = pod();
      for (const i of range(n)) r.request.object.metadata.labels[`example.com/label-${i}`] = `v${i}`;
      return r;
    },
  },
  {
    name: 'pod-long-name',
    grows: 'bytes of the name of a container that adds 64 capabilities (each message quotes the name)',
    make: (n) => {
      const r = pod();
      Object.assign(containerOf(r), { name: 'n'.repeat(n), securityContext: { capabilities: { add: range(64).map((i) => `CAP_${i}`) } } });
      return r;
    },
  },
  {
    name: 'pod-annotation-bytes',
    grows: 'bytes of one annotation value',
    make: (n) => {
      const r = pod();
      r.request.object.metadata.annotations['example.com/blob'] = 'a'.repeat(n);
      return r;
    },
  },
  {
    name: 'pod-excluded-ports',
    grows: 'ports in traffic.portcullis.io/excludeInboundPorts (one violation each)',
    make: (n) => {
      const r = pod();
      r.request.object.metadata.annotations['traffic.portcullis.io/excludeInboundPorts'] = range(n).map((i) => String(1 + (i % 65535))).join(',');
      return r;
    },
  },
  {
    name: 'pod-excluded-ranges',
    grows: 'CIDRs in traffic.portcullis.io/excludeOutboundIPRanges (one violation each)',
    make: (n) => {
      const r = pod();
      r.request.object.metadata.annotations['traffic.portcullis.io/excludeOutboundIPRanges'] = range(n).map((i) => `10.${(i >> 8) & 255}.${i & 255}.0/24`).join(',');
      return r;
    },
  },
  {
    name: 'pod-update-containers',
    grows: 'containers of an UPDATE that leaves the spec as it was (the specs are compared)',
    make: (n) => {
      const r = pod();
      const c = containerOf(r);
      r.request.object.spec.containers = range(n).map((i) => ({ ...structuredClone(c), name: `app-${i}` }));
      return unchangedUpdate(r);
    },
  },
  {
    name: 'pod-update-wide-objects',
    grows: 'containers with 64 resource limits each, in an UPDATE that leaves the spec as it was (key sorting when objects are compared)',
    make: (n) => {
      const r = pod();
      const c = containerOf(r);
      const limits = Object.fromEntries(range(64).map((k) => [`example.com/device-${(k * 7919) % 64}`, '1']));
      r.request.object.spec.containers = range(n).map((i) => ({ ...structuredClone(c), name: `app-${i}`, resources: { limits, requests: limits } }));
      return unchangedUpdate(r);
    },
  },
  {
    name: 'deployment-bad-containers',
    grows: 'containers of a Deployment template, each breaking the container rules',
    make: (n) => {
      const r = pod();
      const template = { metadata: { labels: { app: 'x', version: 'v1' } }, spec: { serviceAccountName: 'x', containers: range(n).map(badContainer) } };
      r.request.kind = { group: 'apps', version: 'v1', kind: 'Deployment' };
      r.request.resource = { group: 'apps', version: 'v1', resource: 'deployments' };
      r.request.object = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'large', namespace: 'payments' }, spec: { selector: { matchLabels: { app: 'x' } }, template } };
      return r;
    },
  },
  {
    name: 'authorization-policy-rules',
    grows: 'allow-all rules of an AuthorizationPolicy (one violation each)',
    make: (n) => istio('security.istio.io', 'AuthorizationPolicy', { action: 'ALLOW', rules: range(n).map((i) => ({ to: [{ operation: { methods: ['*'], paths: [`/*`] } }], when: [{ key: 'source.namespace', notValues: [`ns-${i}`] }] })) }),
  },
  {
    name: 'authorization-policy-principals',
    grows: 'wildcard principals in one source (one violation each)',
    make: (n) => istio('security.istio.io', 'AuthorizationPolicy', { action: 'ALLOW', rules: [{ from: [{ source: { principals: range(n).map((i) => `cluster.local/ns/web${i}*`) } }] }] }),
  },
  {
    name: 'authorization-policy-unknown-fields',
    grows: 'unknown fields of one rule (listed, sorted, in the message)',
    make: (n) => istio('security.istio.io', 'AuthorizationPolicy', { action: 'ALLOW', rules: [Object.fromEntries(range(n).map((i) => [`field${(i * 7919) % n}`, i]))] }),
  },
  {
    name: 'destination-rule-subsets',
    grows: 'subsets of an in-mesh DestinationRule, each with a port-level tls DISABLE',
    make: (n) => istio('networking.istio.io', 'DestinationRule', { host: 'payments.payments.svc.cluster.local', subsets: range(n).map((i) => ({ name: `s${i}`, labels: { v: `${i}` }, trafficPolicy: { portLevelSettings: [{ port: { number: 8000 + (i % 1000) }, tls: { mode: 'DISABLE' } }] } })) }),
  },
  {
    name: 'peer-authentication-ports',
    grows: 'portLevelMtls entries set to PERMISSIVE (an object keyed by port)',
    make: (n) => istio('security.istio.io', 'PeerAuthentication', { mtls: { mode: 'STRICT' }, portLevelMtls: Object.fromEntries(range(n).map((i) => [String(1 + i), { mode: 'PERMISSIVE' }])) }),
  },
  {
    name: 'request-authentication-rules',
    grows: 'jwtRules from unlisted issuers with plain-http jwksUri',
    make: (n) => istio('security.istio.io', 'RequestAuthentication', { jwtRules: range(n).map((i) => ({ issuer: `https://issuer-${i}.example`, jwksUri: `http://issuer-${i}.example/jwks` })) }),
  },
  {
    name: 'service-ports',
    grows: 'Service ports without a protocol name',
    make: (n) => {
      const r = istio('', 'Service', { ports: range(n).map((i) => ({ name: `p${i}`, port: 1 + (i % 65535) })) });
      r.request.object.apiVersion = 'v1';
      r.request.kind.version = 'v1';
      return r;
    },
  },
  {
    name: 'pod-deep-nesting',
    grows: 'arrays nested 200 deep under an unknown field, side by side',
    make: (n) => {
      const r = pod();
      const deep = (d: number): Json => (d === 0 ? 1 : [deep(d - 1)]);
      r.request.object.spec.extra = range(n).map(() => deep(200));
      return r;
    },
  },
];

/** The review of `shape` whose JSON is as close to `bytes` as its unit allows, without going over. */
export function sized(shape: Shape, bytes: number): { n: number; review: Json; size: number } {
  const size = (n: number) => Buffer.byteLength(JSON.stringify(shape.make(n)));
  let lo = 1;
  if (size(lo) > bytes) return { n: lo, review: shape.make(lo), size: size(lo) };
  let hi = 2;
  while (size(hi) <= bytes) {
    lo = hi;
    hi *= 2;
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (size(mid) <= bytes) lo = mid;
    else hi = mid;
  }
  return { n: lo, review: shape.make(lo), size: size(lo) };
}

/** The largest review of the shape, up to `bytes`, that `fits`. */
export function largest(shape: Shape, bytes: number, fits: (body: Buffer) => boolean): { body: Buffer; n: number } | undefined {
  let { n } = sized(shape, bytes);
  for (; n >= 1; n = Math.floor(n * 0.8)) {
    const body = Buffer.from(JSON.stringify(shape.make(n)));
    if (body.length <= bytes && fits(body)) return { body, n };
    if (n === 1) break;
  }
  return undefined;
}

/** Whether the review passes admission.limits, so it is judged rather than refused. */
export function withinLimits(limits: ReviewLimits): (body: Buffer) => boolean {
  return (body) => {
    try {
      checkLimits(parseReview(JSON.parse(body.toString('utf8'))), limits);
      return true;
    } catch {
      return false;
    }
  };
}
