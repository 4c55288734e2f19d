import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Every metric Portcullis exports, in one registry, with Prometheus' naming conventions (base units, _total counters). */
export class Metrics {
  readonly registry = new Registry();

  readonly decisions = new Counter({
    name: 'portcullis_decisions_total',
    help: 'Decisions taken, by front door (admission, authz), result (allow, deny, error) and transport or webhook.',
    labelNames: ['front_door', 'result', 'via'] as const,
    registers: [this.registry],
  });

  readonly ruleHits = new Counter({
    name: 'portcullis_admission_rule_hits_total',
    help: 'Admission rule violations found, by rule id and enforcement (deny, warn, dryrun).',
    labelNames: ['rule', 'enforcement'] as const,
    registers: [this.registry],
  });

  readonly evaluation = new Histogram({
    name: 'portcullis_policy_evaluation_duration_seconds',
    help: 'Time spent in the WebAssembly policy, by entrypoint.',
    labelNames: ['entrypoint'] as const,
    buckets: [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05],
    registers: [this.registry],
  });

  readonly requests = new Histogram({
    name: 'portcullis_request_duration_seconds',
    help: 'Whole request handling time, by front door and transport or webhook.',
    labelNames: ['front_door', 'via'] as const,
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
    registers: [this.registry],
  });

  readonly bundleInfo = new Gauge({
    name: 'portcullis_bundle_info',
    help: 'Active bundle revision (value 1), by bundle name and revision.',
    labelNames: ['name', 'revision'] as const,
    registers: [this.registry],
  });

  readonly bundleLastSuccess = new Gauge({
    name: 'portcullis_bundle_last_success_timestamp_seconds',
    help: 'Unix time of the last successful bundle activation.',
    labelNames: ['name'] as const,
    registers: [this.registry],
  });

  readonly bundleLastFailure = new Gauge({
    name: 'portcullis_bundle_last_failure_timestamp_seconds',
    help: 'Unix time of the last refused or unreachable bundle.',
    labelNames: ['name'] as const,
    registers: [this.registry],
  });

  readonly bundleFailures = new Counter({
    name: 'portcullis_bundle_failures_total',
    help: 'Bundle versions refused or downloads failed.',
    labelNames: ['name'] as const,
    registers: [this.registry],
  });

  readonly certificateExpiry = new Gauge({
    name: 'portcullis_certificate_expiry_timestamp_seconds',
    help: 'Unix time at which the certificate expires, by certificate (serving, ca).',
    labelNames: ['name'] as const,
    registers: [this.registry],
  });

  readonly sdsCertificates = new Counter({
    name: 'portcullis_sds_certificates_issued_total',
    help: 'Workload certificates (SVIDs) issued over SDS, first ones and renewals.',
    registers: [this.registry],
  });

  readonly sdsRefusals = new Counter({
    name: 'portcullis_sds_refusals_total',
    help: 'SDS streams refused, by reason (unauthenticated, invalid, exhausted).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly sdsStreams = new Gauge({
    name: 'portcullis_sds_streams',
    help: 'SDS streams open.',
    registers: [this.registry],
  });

  readonly jwksFetchErrors = new Counter({
    name: 'portcullis_jwks_fetch_errors_total',
    help: 'Failed JWKS fetches, by issuer.',
    labelNames: ['issuer'] as const,
    registers: [this.registry],
  });

  readonly auditBuffered = new Gauge({
    name: 'portcullis_audit_buffered_events',
    help: 'Audit events waiting in a sink buffer.',
    labelNames: ['sink'] as const,
    registers: [this.registry],
  });

  readonly auditDropped = new Counter({
    name: 'portcullis_audit_dropped_events_total',
    help: 'Audit events a sink dropped because its buffer was full.',
    labelNames: ['sink'] as const,
    registers: [this.registry],
  });

  readonly auditEvents = new Counter({
    name: 'portcullis_audit_events_total',
    help: 'Audit events sealed into the hash chain.',
    registers: [this.registry],
  });

  readonly postureViolations = new Gauge({
    name: 'portcullis_posture_violations',
    help: 'Violations found on existing objects by the posture audit (leader only), by rule, enforcement and namespace; namespaces beyond posture.metricNamespaces are summed as "(other)".',
    labelNames: ['rule', 'enforcement', 'namespace'] as const,
    registers: [this.registry],
  });

  readonly postureObjects = new Gauge({
    name: 'portcullis_posture_objects',
    help: 'Existing objects judged by the posture audit (leader only), by state (compliant, violating, error).',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });

  readonly postureLastSweep = new Gauge({
    name: 'portcullis_posture_last_sweep_timestamp_seconds',
    help: 'Unix time at which the last full posture sweep ended (leader only).',
    registers: [this.registry],
  });

  readonly postureSweepDuration = new Gauge({
    name: 'portcullis_posture_sweep_duration_seconds',
    help: 'How long the last full posture sweep took (leader only).',
    registers: [this.registry],
  });

  constructor(labels: Record<string, string> = {}) {
    this.registry.setDefaultLabels(labels);
    // Includes nodejs_eventloop_lag_seconds and the process' CPU, memory and file descriptors.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 10 });
  }
}
