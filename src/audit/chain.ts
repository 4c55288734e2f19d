import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical.js';
import type { DecisionEvent } from './event.js';

export const GENESIS = '0'.repeat(64);

/** The hash of an event: SHA-256 over its canonical JSON without the `hash` field itself. */
export function eventHash(event: DecisionEvent): string {
  const { hash: _hash, ...rest } = event;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex');
}

/**
 * Links events into a tamper-evident chain: each carries a sequence number, the hash of the one before
 * and its own hash. Changing, removing or reordering any event breaks the links after it.
 */
export class HashChain {
  private prev = GENESIS;
  private seq = 0;

  seal(event: DecisionEvent): DecisionEvent {
    event.seq = ++this.seq;
    event.prev_hash = this.prev;
    event.hash = eventHash(event);
    this.prev = event.hash;
    return event;
  }
}
