import type { LabelSelector } from './config.js';

/**
 * Whether labels match a Kubernetes label selector: every matchLabels entry and every expression must
 * hold (NotIn and DoesNotExist hold for an absent key, as in the API server). An empty selector matches all.
 */
export function matchesSelector(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const values = e.values ?? [];
    const ok =
      e.operator === 'In' ? has && values.includes(labels[e.key] as string)
      : e.operator === 'NotIn' ? !has || !values.includes(labels[e.key] as string)
      : e.operator === 'Exists' ? has
      : !has;
    if (!ok) return false;
  }
  return true;
}
