import { AuthenticationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { withDeadline } from './deadline.js';
import { describe } from './errors.js';

/** Who a ServiceAccount token belongs to, as the API server vouches for it. */
export interface ServiceAccountIdentity {
  namespace: string;
  serviceAccount: string;
  /** The Pod the token is bound to (projected tokens), when the API server says. */
  pod?: string;
  podUid?: string;
  /** When the token expires, from its own exp claim (the API server has just verified its signature). */
  expiresAt?: Date;
}

export type Review = { identity: ServiceAccountIdentity } | { refused: string };

const SERVICE_ACCOUNT_USER = /^system:serviceaccount:([^:]+):([^:]+)$/;

/**
 * Asks the API server who a token is (authentication.k8s.io/v1 TokenReview), for one audience: a token
 * minted for anyone else (the API server's own audience, another service), expired, bound to a Pod that is
 * gone, or not a ServiceAccount's at all is refused with the reason. Never throws: a failed call is a refusal.
 */
export class TokenReviewer {
  private readonly api: AuthenticationV1Api;

  constructor(
    kc: KubeConfig,
    private readonly audience: string,
    private readonly timeoutMs: number,
  ) {
    this.api = kc.makeApiClient(AuthenticationV1Api);
  }

  async review(token: string): Promise<Review> {
    let status;
    try {
      const reply = await withDeadline(this.api.createTokenReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences: [this.audience] } } }), this.timeoutMs, 'the TokenReview');
      status = reply.status;
    } catch (err) {
      return { refused: `the token could not be reviewed by the API server: ${describe(err)}` };
    }
    if (!status?.authenticated) return { refused: `the API server did not authenticate the token${status?.error ? `: ${status.error}` : ''}` };
    // An API server that ignores spec.audiences would answer for its own audience: the answer must name ours.
    if (!(status.audiences ?? []).includes(this.audience)) return { refused: `the token is not for audience "${this.audience}" (it is for ${JSON.stringify(status.audiences ?? [])})` };
    const m = SERVICE_ACCOUNT_USER.exec(status.user?.username ?? '');
    if (!m) return { refused: `the token is not a ServiceAccount's (user ${JSON.stringify(status.user?.username ?? '')})` };
    const extra = status.user?.extra ?? {};
    const pod = extra['authentication.kubernetes.io/pod-name']?.[0];
    const podUid = extra['authentication.kubernetes.io/pod-uid']?.[0];
    const expiresAt = expiry(token);
    return { identity: { namespace: m[1] as string, serviceAccount: m[2] as string, ...(pod ? { pod } : {}), ...(podUid ? { podUid } : {}), ...(expiresAt ? { expiresAt } : {}) } };
  }
}

/** The exp claim of a JWT, read without verifying (the caller had the API server verify it). */
function expiry(token: string): Date | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof payload.exp === 'number' ? new Date(payload.exp * 1000) : undefined;
  } catch {
    return undefined;
  }
}
