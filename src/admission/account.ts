import type { SerializedInput } from '../audit/mask.js';
import type { Context } from '../server/context.js';
import type { RequestSummary, Webhook } from './decide.js';
import type { Outcome } from './outcome.js';

/**
 * Accounts for one decision: metrics and the audit event. record() only queues, so this adds almost nothing
 * to the request; the event carries the same decision_id the response names in its auditAnnotations.
 */
export function account(ctx: Context, options: {
  webhook: Webhook;
  decisionId: string;
  /** What is known of the request: nothing for a body that is not a review, only the uid for a malformed one. */
  request: Partial<RequestSummary> | undefined;
  outcome: Pick<Outcome, 'decision' | 'error' | 'path' | 'result' | 'violations' | 'evaluations'> & { allowed: boolean };
  /** The masked, serialized policy input (decide() makes it). */
  input?: SerializedInput;
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
    ...(options.input !== undefined ? { serializedInput: options.input } : {}),
    ...(outcome.result !== undefined ? { result: outcome.result } : {}),
    bundles: options.bundles,
    metrics: { timer_rego_eval_ns: evalNs, timer_server_handler_ns: options.handlerNs },
    kind: 'admission',
    decision: outcome.decision,
    ...(outcome.error !== undefined ? { error: outcome.error } : {}),
    admission: {
      uid: request?.uid ?? '',
      kind: request?.kind ?? '',
      namespace: request?.namespace ?? '',
      name: request?.name ?? '',
      operation: request?.operation ?? '',
      user: request?.user ?? '',
      webhook,
      allowed: outcome.allowed,
      rules: [...new Set(outcome.violations.map((v) => v.rule))],
      dry_run: request?.dry_run ?? false,
    },
  });
}
