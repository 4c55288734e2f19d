/**
 * Tokens already verified, by their exact string, so a client presenting the same token again costs one
 * map lookup instead of a signature check. Bounded: the oldest entries go first. An entry never outlives the
 * token's own exp (plus the allowed clock skew) nor the configured time-to-live, so a key removed from a JWKS
 * stops being honoured within that time.
 */
export class VerifiedCache<T> {
  private readonly entries = new Map<string, { value: T; until: number }>();

  constructor(
    private readonly max: number,
    private readonly ttlMs: number,
  ) {}

  get(token: string, now: number): T | undefined {
    const e = this.entries.get(token);
    if (!e) return undefined;
    if (e.until <= now) {
      this.entries.delete(token);
      return undefined;
    }
    return e.value;
  }

  /** expiresAt: the token's exp in ms (with skew), or undefined when it has none. */
  set(token: string, value: T, now: number, expiresAt: number | undefined): void {
    if (this.max === 0) return;
    const until = Math.min(now + this.ttlMs, expiresAt ?? Infinity);
    if (until <= now) return;
    if (this.entries.size >= this.max) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(token, { value, until });
  }

  get size(): number {
    return this.entries.size;
  }
}
