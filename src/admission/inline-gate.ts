import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { scanJson } from './json-scan.js';

const WINDOW_MS = 100;
/** Busy share of the main thread above which decisions move to the workers... */
const TO_WORKERS = 0.85;
/** ...and below which they come back. Deciding here costs the main thread more than handing over, hence the gap. */
const TO_MAIN = 0.5;

/**
 * Where admission decisions run: on the main thread while it has time to spare, on the decision workers
 * once it has not. Handing a decision over costs two thread wake-ups and copies, about 0.2 ms more per
 * review (0.8 ms against 0.6 ms at the median on a 2-core machine at 1,000 reviews/s), and buys nothing
 * until the main thread is the bottleneck. The main thread's event loop utilization over the last 100 ms
 * decides, with hysteresis so that a load between the two thresholds does not flip it back and forth.
 */
export class InlineGate {
  private sample: EventLoopUtilization = performance.eventLoopUtilization();
  private onMain = true;
  private readonly timer = setInterval(() => this.measure(), WINDOW_MS).unref();

  /** True: decide on the main thread. */
  get inline(): boolean {
    return this.onMain;
  }

  close(): void {
    clearInterval(this.timer);
  }

  private measure(): void {
    const now = performance.eventLoopUtilization();
    const busy = performance.eventLoopUtilization(now, this.sample).utilization;
    this.sample = now;
    this.onMain = this.onMain ? busy < TO_WORKERS : busy < TO_MAIN;
  }
}

/**
 * The most a review decided on the main thread may hold. An evaluation cannot be stopped, so only reviews
 * whose worst case is short stay here: the policy's cost grows with the findings a review can produce
 * (about one per array element or object member, ~20 µs each at worst) and with the strings its
 * messages repeat. A typical Pod has ~200 members and no string over 100 bytes; bench:limits measures
 * the worst review within these bounds (docs/limits.md).
 */
export const INLINE = { maxBytes: 32 * 1024, maxMembers: 600, maxStringBytes: 1024 } as const;

/** Whether the review is small enough to be decided on the main thread (one scan of at most INLINE.maxBytes). */
export function cheapEnoughInline(body: Uint8Array): boolean {
  if (body.length > INLINE.maxBytes) return false;
  const shape = scanJson(body);
  return shape.members <= INLINE.maxMembers && shape.longestString <= INLINE.maxStringBytes;
}
