import { GENESIS, sha256, splitLine } from './chain.js';
import type { DecisionEvent } from './event.js';

export interface VerifyProblem {
  /** 1-based line across all inputs, and where it is. */
  line: number;
  source: string;
  decision_id?: string;
  message: string;
}

export interface VerifyReport {
  events: number;
  chains: number;
  /** Lines that are not audit events (the service's own log lines share stdout). */
  skipped: number;
  problem?: VerifyProblem;
}

interface ChainState {
  seq: number;
  hash: string;
}

/**
 * Checks the hash chain of audit events read in order (files oldest first). Each instance writes its own
 * chain (labels.id), so interleaved chains are followed separately. Reports the first event that was
 * altered (hash mismatch), removed (sequence gap), reordered (sequence going back) or replaced (valid
 * hash, broken link). Lines lost from the very end are detectable only against a later event.
 */
export function verifyLines(inputs: Array<{ source: string; lines: Iterable<string> }>): VerifyReport {
  const chains = new Map<string, ChainState>();
  let events = 0;
  let skipped = 0;
  let n = 0;
  for (const { source, lines } of inputs) {
    for (const raw of lines) {
      n++;
      if (raw.trim() === '') continue;
      let event: DecisionEvent;
      try {
        event = JSON.parse(raw) as DecisionEvent;
      } catch {
        skipped++;
        continue;
      }
      if (typeof event !== 'object' || event === null || typeof event.decision_id !== 'string') {
        skipped++;
        continue;
      }
      events++;
      const at = { line: n, source, decision_id: event.decision_id };
      const sealed = splitLine(raw.trimEnd());
      if (!sealed || typeof event.prev_hash !== 'string' || typeof event.seq !== 'number') {
        return { events, chains: chains.size, skipped, problem: { ...at, message: 'event carries no hash chain fields (removed or never sealed)' } };
      }
      if (sha256(sealed.body) !== sealed.hash) {
        return { events, chains: chains.size, skipped, problem: { ...at, message: `altered: the content of event seq ${event.seq} does not match its hash` } };
      }
      const id = event.labels?.id ?? '';
      const prev = chains.get(id);
      if (!prev) {
        if (event.seq === 1 && event.prev_hash !== GENESIS) {
          return { events, chains: chains.size, skipped, problem: { ...at, message: 'first event of a chain does not start from the genesis hash' } };
        }
      } else if (event.seq <= prev.seq) {
        return { events, chains: chains.size, skipped, problem: { ...at, message: `reordered: seq ${event.seq} comes after seq ${prev.seq}` } };
      } else if (event.seq > prev.seq + 1) {
        const range = event.seq - prev.seq === 2 ? `seq ${prev.seq + 1}` : `seq ${prev.seq + 1}..${event.seq - 1}`;
        return { events, chains: chains.size, skipped, problem: { ...at, message: `removed: ${range} missing before this event` } };
      } else if (event.prev_hash !== prev.hash) {
        return { events, chains: chains.size, skipped, problem: { ...at, message: `replaced: event seq ${prev.seq} before this one is not the one that was chained` } };
      }
      chains.set(id, { seq: event.seq, hash: sealed.hash });
    }
  }
  return { events, chains: chains.size, skipped };
}
