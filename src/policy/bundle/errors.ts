/** A bundle that cannot be activated. The message names the bundle and the reason; the last good bundle keeps serving. */
export class BundleError extends Error {
  constructor(
    readonly bundle: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`bundle ${bundle}: ${reason}`, options);
    this.name = 'BundleError';
  }
}
