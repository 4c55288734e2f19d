import { creationRequest, judgeRequest } from '../admission/judge.js';
import type { Injector } from '../admission/injection/injector.js';
import type { Judge } from '../posture/verdict.js';
import type { Config } from './config.js';
import { judgeDeps } from './judge-deps.js';

/** The user the posture audit's reviews name: the object's real author is not known after the fact. */
export const POSTURE_USER = 'portcullis:posture';

/**
 * The posture audit's judge: the validating webhook's decision path on an object already stored, as its
 * CREATE. No mutation: the object went through the mutating webhook when it was created, and what is
 * stored is what runs (a Pod without its sidecar is a finding, not something to inject now). The injector
 * checks an injected Pod's sidecar against its template, as the validating webhook did.
 */
export function auditJudge(config: Config, injector: Injector): Judge {
  const deps = judgeDeps(config, injector);
  return (snapshot, object, namespace) => judgeRequest(snapshot, deps, creationRequest(object, POSTURE_USER), namespace, { mutate: false });
}
