import type { Context } from '../server/context.js';
import { Authorizer } from './authorizer.js';

const shared = new WeakMap<Context, { authorizer: Authorizer; users: number }>();

/**
 * The gRPC and HTTP doors share one Authorizer, so verified tokens, fetched keys and rate-limit buckets
 * are the same whichever way a request comes in. The last door to close releases it.
 */
export function acquireAuthorizer(ctx: Context): { authorizer: Authorizer; release(): void } {
  let entry = shared.get(ctx);
  if (!entry) shared.set(ctx, (entry = { authorizer: new Authorizer(ctx), users: 0 }));
  entry.users++;
  const e = entry;
  let released = false;
  return {
    authorizer: e.authorizer,
    release() {
      if (released) return;
      released = true;
      if (--e.users === 0) {
        e.authorizer.close();
        shared.delete(ctx);
      }
    },
  };
}
