/**
 * Lease times are MicroTime, which the API server parses with exactly six fractional digits; a Date
 * would be sent with three and refused. Sent as a string where the client's types say Date.
 */
export function microTime(date = new Date()): Date {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z') as unknown as Date;
}

/** Lease times as the client hands them back: a Date or the raw string. */
export function timeOf(value: Date | string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? undefined : ms;
}
