import type { RequestSummary } from './decide.js';

/** Bytes of a worker's slot: the id and length words, then the summary as JSON. */
export const SUMMARY_BYTES = 64 * 1024;
const HEADER = 8;
/** Each text field is cut to this many characters, so every summary fits. */
const FIELD_CHARS = 1024;

/**
 * Who the review a decision worker is deciding is, in memory the main thread shares: the worker writes it
 * once the review is parsed, and the main thread reads it only when the decision runs past its deadline,
 * to answer the API server in kind (its uid) while the worker is being stopped. No message, so no wake-up
 * of the main thread for the decisions that finish in time (nearly all).
 */
export function writeSummary(slot: SharedArrayBuffer, id: number, summary: RequestSummary): void {
  const words = new Int32Array(slot, 0, 2);
  const cut = Object.fromEntries(Object.entries(summary).map(([k, v]) => [k, typeof v === 'string' && v.length > FIELD_CHARS ? v.slice(0, FIELD_CHARS) : v]));
  const { written } = new TextEncoder().encodeInto(JSON.stringify(cut), new Uint8Array(slot, HEADER));
  Atomics.store(words, 1, written);
  // The id last: a reader that sees it sees the bytes written before it.
  Atomics.store(words, 0, id);
}

/** The summary of decision `id`, or undefined when the worker had not got that far. */
export function readSummary(slot: SharedArrayBuffer, id: number): RequestSummary | undefined {
  const words = new Int32Array(slot, 0, 2);
  if (Atomics.load(words, 0) !== id) return undefined;
  const length = Atomics.load(words, 1);
  try {
    // Copied out first: TextDecoder does not read shared memory.
    return JSON.parse(new TextDecoder().decode(new Uint8Array(slot, HEADER, length).slice())) as RequestSummary;
  } catch {
    return undefined;
  }
}
