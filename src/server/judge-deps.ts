import type { JudgeDeps } from '../admission/judge.js';
import type { Injector } from '../admission/injection/injector.js';
import type { Config } from './config.js';

/** What the decision path needs from the configuration, for the judges outside the webhooks (the posture audit, eval). */
export function judgeDeps(config: Config, injector: Injector): JudgeDeps {
  const a = config.admission;
  return {
    injector,
    cluster: config.cluster,
    entrypoints: { validate: a.violationsEntrypoint, mutate: a.patchesEntrypoint, patchesActive: a.patchesActiveEntrypoint },
    dropManagedFields: a.dropManagedFields,
  };
}
