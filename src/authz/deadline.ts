/** The decision ran out of time (authz.timeoutMs or the caller's own gRPC deadline). */
export class DeadlineExceeded extends Error {
  constructor(what: string) {
    super(`deadline exceeded while ${what}`);
    this.name = 'DeadlineExceeded';
  }
}

/** Waits for the promise, but no later than the deadline (ms since the epoch). */
export function beforeDeadline<T>(promise: Promise<T>, deadline: number, what: string): Promise<T> {
  const left = deadline - Date.now();
  if (left <= 0) return Promise.reject(new DeadlineExceeded(what));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceeded(what)), left);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
