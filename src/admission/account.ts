import type { AdmissionSummary } from '../audit/event.js';
import type { Context } from '../server/context.js';
import type { Outcome } from './outcome.js';
import type { AdmissionRequest } from './review.js';

export type Webhook = 'validate' | 'mutate';

/**
 * Accounts for one decision: metrics and the audit event. record() only queues, so this adds almost nothing
 * to the request; the event carries the same decision_id the response names in its auditAnnotations.
 */
export function account(ctx: Context, options: {
  webhook: Webhook;
  decisionId: string;
  request: AdmissionRequest | undefined;
  outcome: Pick<Outcome, 'decision' | 'error' | 'path' | 'input' | 'result' | 'violations' | 'evaluations'> & { allowed: boolean };
  /** The snapshot's bundles, as the audit event names them. */
  bundles: Readonly<Record<string, { revision: string }>>;
  handlerNs: number;
}): void {
  const { webhook, request, outcome } = options;
  const { metrics } = ctx;
  metrics.decisions.inc({ front_door: 'admission', result: outcome.decision, via: webhook });
  metrics.requests.observe({ front_door: 'admission', via: webhook }, options.handlerNs / 1e9);
  let evalNs = 0;
  for (const e of outcome.evaluations) {
    metrics.evaluation.observe({ entrypoint: e.entrypoint }, e.ns / 1e9);
    evalNs += e.ns;
  }
  for (const v of outcome.violations) metrics.ruleHits.inc({ rule: v.rule, enforcement: v.enforcement });

  ctx.audit.record({
    decision_id: options.decisionId,
    path: outcome.path,
    ...(outcome.input !== undefined ? { input: outcome.input } : {}),
    ...(outcome.result !== undefined ? { result: outcome.result } : {}),
    bundles: options.bundles,
    metrics: { timer_rego_eval_ns: evalNs, timer_server_handler_ns: options.handlerNs },
    kind: 'admission',
    decision: outcome.decision,
    ...(outcome.error !== undefined ? { error: outcome.error } : {}),
    admission: summary(webhook, request, outcome.allowed, outcome.violations.map((v) => v.rule)),
  });
}

function summary(webhook: Webhook, request: AdmissionRequest | undefined, allowed: boolean, rules: string[]): AdmissionSummary {
  const object = (request?.object ?? request?.oldObject) as { metadata?: { name?: unknown; generateName?: unknown } } | undefined;
  const name = request?.name || (typeof object?.metadata?.name === 'string' ? object.metadata.name : '') || (typeof object?.metadata?.generateName === 'string' ? object.metadata.generateName : '');
  return {
    uid: request?.uid ?? '',
    kind: request ? `${request.kind.group ? `${request.kind.group}/` : ''}${request.kind.kind}` : '',
    namespace: request?.namespace ?? '',
    name,
    operation: request?.operation ?? '',
    user: request?.userInfo.username ?? '',
    webhook,
    allowed,
    rules: [...new Set(rules)],
    dry_run: request?.dryRun === true,
  };
}
