import { ApiException } from '@kubernetes/client-node';

/** The HTTP status of a failed API call, undefined when it never got an answer (refused, reset, timed out). */
export function statusOf(err: unknown): number | undefined {
  return err instanceof ApiException ? err.code : undefined;
}

export const isConflict = (err: unknown): boolean => statusOf(err) === 409;
export const isNotFound = (err: unknown): boolean => statusOf(err) === 404;

/** A one-line description for logs: the API's message when it sent one. */
export function describe(err: unknown): string {
  if (err instanceof ApiException) {
    const body = err.body as { message?: string } | string | undefined;
    const message = typeof body === 'string' ? body : body?.message;
    return `${err.code}${message ? `: ${message}` : ''}`;
  }
  return err instanceof Error ? err.message : String(err);
}
