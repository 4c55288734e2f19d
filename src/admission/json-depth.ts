import { ReviewError } from './review.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const OPEN_ARRAY = 0x5b;
const CLOSE_OBJECT = 0x7d;
const CLOSE_ARRAY = 0x5d;

/**
 * Refuses a body whose objects and arrays nest deeper than `limit`, before it is parsed. JSON.parse copes
 * with any depth, but everything after it walks the document recursively (audit masking, serializing,
 * the policy's own parser) and runs out of stack some thousands of levels down; real Kubernetes objects
 * nest a few dozen levels at most. One pass over the bytes, brackets inside strings not counted; UTF-8
 * continuation bytes are never ASCII, so bytes are enough. Malformed JSON is left to JSON.parse.
 */
export function checkJsonDepth(body: Uint8Array, limit: number): void {
  const n = body.length;
  let depth = 0;
  for (let i = 0; i < n; i++) {
    const c = body[i];
    if (c === QUOTE) {
      // Skip the string: up to the next quote that is not escaped (an escape takes the byte after it).
      for (i++; i < n; i++) {
        const s = body[i];
        if (s === QUOTE) break;
        if (s === BACKSLASH) i++;
      }
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++depth > limit) throw new ReviewError(`the body nests objects and arrays deeper than ${limit} levels (admission.maxJsonDepth)`);
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth--;
    }
  }
}
