/** What a policy asks for in rate_limit: a bucket per key holding `burst` tokens, refilled at requests_per_minute. */
export interface RateLimit {
  key: string;
  requests_per_minute: number;
  burst: number;
}

export interface Take {
  allowed: boolean;
  /** Whole seconds until one token is back, for Retry-After. */
  retryAfterSeconds: number;
}

interface Bucket {
  tokens: number;
  last: number;
}

/**
 * In-process token buckets. The map is kept in least-recently-used order (a hit moves its bucket to the end),
 * so idle buckets are found at the front and dropped without scanning the rest, and when maxBuckets is reached
 * the least recently used one makes room: memory stays bounded however many keys callers invent.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private sweptAt = 0;

  constructor(
    private readonly maxBuckets: number,
    private readonly idleMs: number,
  ) {}

  take(limit: RateLimit, now = Date.now()): Take {
    const perMs = limit.requests_per_minute / 60000;
    const capacity = limit.burst;
    this.sweep(now);
    let b = this.buckets.get(limit.key);
    if (b) {
      this.buckets.delete(limit.key);
      b.tokens = Math.min(capacity, b.tokens + (now - b.last) * perMs);
      b.last = now;
    } else {
      if (this.buckets.size >= this.maxBuckets) this.buckets.delete(this.buckets.keys().next().value as string);
      b = { tokens: capacity, last: now };
    }
    this.buckets.set(limit.key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { allowed: true, retryAfterSeconds: 0 };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - b.tokens) / perMs / 1000)) };
  }

  get size(): number {
    return this.buckets.size;
  }

  private sweep(now: number): void {
    if (now - this.sweptAt < Math.min(this.idleMs, 1000)) return;
    this.sweptAt = now;
    for (const [key, b] of this.buckets) {
      if (now - b.last < this.idleMs) break;
      this.buckets.delete(key);
    }
  }
}

/** A rate_limit from a policy, checked before it is trusted; undefined when the decision carries none. */
export function readRateLimit(v: unknown): RateLimit | undefined {
  if (v === undefined || v === null) return undefined;
  const r = v as Partial<RateLimit>;
  if (typeof r !== 'object' || typeof r.key !== 'string' || !(typeof r.requests_per_minute === 'number' && r.requests_per_minute > 0) || !(typeof r.burst === 'number' && r.burst >= 1)) {
    throw new Error(`invalid rate_limit in the decision: ${JSON.stringify(v)}`);
  }
  return { key: r.key, requests_per_minute: r.requests_per_minute, burst: r.burst };
}
