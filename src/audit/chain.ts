import { hash } from 'node:crypto';
import type { DecisionEvent } from './event.js';

export const GENESIS = '0'.repeat(64);
const HASH_SUFFIX = /,"hash":"([0-9a-f]{64})"\}$/;

/**
 * Links events into a tamper-evident chain. Each event carries a sequence number and the hash of the one
 * before; its own hash is SHA-256 over its line exactly as written, up to the `hash` field, which is
 * appended last. Changing any byte of an event, removing or reordering events breaks the chain, and an
 * event is serialized only once on the way out.
 */
export class HashChain {
  private prev = GENESIS;
  private seq = 0;

  /** Serializes the event with its chain fields; `serialize` may rewrite the JSON (masking) before it is hashed. */
  seal(event: DecisionEvent, serialize: (e: DecisionEvent) => string): string {
    event.seq = ++this.seq;
    event.prev_hash = this.prev;
    const body = serialize(event);
    const hash = sha256(body);
    this.prev = hash;
    return `${body.slice(0, -1)},"hash":"${hash}"}`;
  }
}

/** Splits a written line into the JSON that was hashed and the hash it carries. */
export function splitLine(line: string): { body: string; hash: string } | undefined {
  const m = HASH_SUFFIX.exec(line);
  if (!m) return undefined;
  return { body: `${line.slice(0, m.index)}}`, hash: m[1] as string };
}

/** One-shot: no Hash object per event for the garbage collector to finalize (a weak handle each). */
export function sha256(text: string): string {
  return hash('sha256', text, 'hex');
}
