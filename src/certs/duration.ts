/** Go-style durations as the seed writes them ("24h", "4h", "90m", "1h30m", "20s", "500ms"), in milliseconds. */
export function parseDuration(text: string): number {
  const parts = /^(?:\d+(?:\.\d+)?(?:h|m|s|ms))+$/.test(text) ? text.match(/\d+(?:\.\d+)?(?:ms|h|m|s)/g) : null;
  if (!parts) throw new Error(`not a duration: ${JSON.stringify(text)} (use e.g. 24h, 90m, 30s, 1h30m)`);
  const unit: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
  let total = 0;
  for (const p of parts) {
    const [, n, u] = /^(\d+(?:\.\d+)?)(ms|h|m|s)$/.exec(p) as unknown as [string, string, string];
    total += Number(n) * (unit[u] as number);
  }
  return total;
}

/** The JSON Schema pattern of a duration, so a typo is reported at start with the other config errors. */
export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(h|m|s|ms))+$';
