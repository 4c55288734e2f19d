/**
 * Rejects when the call takes longer than ms. The API client has no timeout of its own, and a call
 * hanging on a half-dead connection must not hold a leader past its renew deadline or a relist forever.
 */
export async function withDeadline<T>(call: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      call,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms}ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
