// This VM shares its cores with neighbours: now and then a run loses a few milliseconds to them, which is
// the whole p99 of a 10-second run at 1,000 req/s. Each figure is therefore the median of several runs,
// alternated between the systems compared, and the benchmarks print every run beside it.

export const RUNS = Number(process.env.BENCH_RUNS ?? 3);

/** Runs each job `runs` times, round-robin (a, b, a, b, ...), so the systems compared share the noisy moments. */
export async function alternate<T>(jobs: Record<string, () => Promise<T>>, runs = RUNS): Promise<Record<string, T[]>> {
  const results: Record<string, T[]> = Object.fromEntries(Object.keys(jobs).map((k) => [k, []]));
  for (let i = 0; i < runs; i++) for (const [name, job] of Object.entries(jobs)) results[name]?.push(await job());
  return results;
}

/** The run in the middle when ordered by `key`. */
export function median<T>(runs: T[], key: (r: T) => number): T {
  const sorted = [...runs].sort((a, b) => key(a) - key(b));
  const middle = sorted[Math.floor((sorted.length - 1) / 2)];
  if (middle === undefined) throw new Error('no runs');
  return middle;
}
